#!/usr/bin/python3
"""flags2_threadpool.py -- the book's flags2_threadpool, for flagbench.

concurrent.futures.ThreadPoolExecutor(max_workers=concur_req), one
requests.Session per worker thread (so each worker keeps its connection
alive, as each C pool worker keeps its easy handle), futures collected with
as_completed on the main thread. The command line, output, saving and
--json record are flags2_common's, the same as the C clients'.
"""

import ssl
import sys
import threading
import time
from concurrent import futures

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.ssl_ import create_urllib3_context

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import flags2_common as common  # noqa: E402

DEFAULT_CONCUR_REQ = 30  # the book's
MAX_CONCUR_REQ = 10_000  # as flags_threadpool
MAX_REDIRS = 5           # as common/xfer.c

# ---- counting connections --------------------------------------------------
# The record's "connections" is what libcurl's CURLINFO_NUM_CONNECTS sums to:
# new TCP connections. urllib3 opens them in _new_conn on the thread that
# sends the request, so a per-thread counter, read before and after a GET,
# gives that request's new connections exactly.
_tls = threading.local()


class _Counting:
    def _new_conn(self):
        sock = super()._new_conn()
        _tls.connects = getattr(_tls, 'connects', 0) + 1
        self._flagbench_tcp_up = True
        return sock


class _CountingHTTPConnection(_Counting, HTTPConnection):
    pass


class _CountingHTTPSConnection(_Counting, HTTPSConnection):
    def connect(self):
        # urllib3 makes the TCP connection (_new_conn), then the TLS
        # handshake: a failure after the first is the handshake's, and
        # flags2_common.describe_error words it as common/xfer.c does.
        self._flagbench_tcp_up = False
        try:
            super().connect()
        except BaseException as exc:
            if self._flagbench_tcp_up:
                exc.flagbench_tls_handshake = True
            raise
        # ssl.SSLSocket turns that error into an end of data unless told not
        # to: then only a close_notify reads as the end.
        if isinstance(self.sock, ssl.SSLSocket):
            self.sock.suppress_ragged_eofs = False


class _CountingHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CountingHTTPConnection


class _CountingHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CountingHTTPSConnection


class _CountingAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        # A TCP close without the server's close_notify is an error, not the
        # end of the data (Python sets OP_IGNORE_UNEXPECTED_EOF by default):
        # get_one needs it to tell a close-delimited body that was cut from
        # one that ended (issue 19, case 3). urllib3 still loads the CAs
        # (requests' verify) and checks the host name itself.
        ctx = create_urllib3_context()
        ctx.options &= ~getattr(ssl, 'OP_IGNORE_UNEXPECTED_EOF', 0)
        kwargs['ssl_context'] = ctx
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            'http': _CountingHTTPPool, 'https': _CountingHTTPSPool}


def _new_session(job):
    session = requests.Session()
    adapter = _CountingAdapter(pool_connections=1, pool_maxsize=1)
    session.mount('http://', adapter)
    session.mount('https://', adapter)
    session.max_redirects = MAX_REDIRS
    # No proxy variables or ~/.netrc looked up on every request: aiohttp's
    # default, and 20% of this program's CPU per request on loopback.
    session.trust_env = False
    session.headers['User-Agent'] = 'flagbench/0.1'
    if job.cacert:
        session.verify = job.cacert  # the only CAs, as CURLOPT_CAINFO
    if job.fresh_connect:
        # The server closes after the response; urllib3 then opens a new
        # connection for the next request (counted above).
        session.headers['Connection'] = 'close'
    return session


def _cut_body_reason(resp, exc):
    """The words for a body the server's TCP close cut without a TLS
    close_notify (OpenSSL's unexpected EOF while reading it), as the C clients say
    them; None for any other failure."""
    seen, todo = [], [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or any(e is s for s in seen):
            continue
        seen.append(e)
        todo.extend(a for a in getattr(e, 'args', ()) if isinstance(a, BaseException))
        todo.extend((e.__cause__, e.__context__))
    # Python 3.11.2 raises a plain SSLError with OpenSSL's reason; later
    # ones an SSLEOFError.
    if not any(isinstance(e, ssl.SSLEOFError) or getattr(e, 'reason', None) ==
               'UNEXPECTED_EOF_WHILE_READING' for e in seen):
        return None
    if common.close_delimited(resp.headers):
        return common.TLS_TRUNCATED
    length = resp.headers.get('Content-Length', '')
    if length.isdigit():  # libcurl's words for a body short of its length
        return (f'transfer closed with {int(length) - resp.raw.tell()} bytes '
                'remaining to read')
    return common.TRUNCATED


def download_many(job, done):
    local = threading.local()
    sessions = []  # every worker's, closed at the end
    # requests' timeout bounds the connect and each read, not the whole
    # transfer (docs/python.md); a stalled body fails after one timeout.
    timeout = (job.timeout_s, job.timeout_s)

    def get_one(index):
        if job.cancelled.is_set():
            return common.Result(index, common.Status.CANCELLED, msg='interrupted')
        session = getattr(local, 'session', None)
        if session is None:
            session = local.session = _new_session(job)
            sessions.append(session)
        url = job.url(index)
        before = getattr(_tls, 'connects', 0)
        t0 = time.perf_counter()
        resp = None
        try:
            resp = session.get(url, timeout=timeout, stream=True)
            body = resp.content
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            msg = common.describe_error(exc, job, url)
            if resp is not None:
                msg = _cut_body_reason(resp, exc) or msg
                resp.close()
            return common.Result(index, common.Status.ERROR, time.perf_counter() - t0, 0,
                                 getattr(_tls, 'connects', 0) - before, msg)
        latency = time.perf_counter() - t0
        connects = getattr(_tls, 'connects', 0) - before
        # urllib3 1.26 accepts a body cut short by the server (it does not
        # enforce Content-Length by default); curl and aiohttp reject it.
        length = resp.headers.get('Content-Length')
        if (length and length.isdigit() and 'Content-Encoding' not in resp.headers
                and int(length) != len(body)):
            return common.Result(index, common.Status.ERROR, latency, len(body), connects,
                                 f'transfer closed with {int(length) - len(body)} bytes '
                                 'remaining to read')  # curl's words
        return job.finish(index, resp.status_code, body, latency, connects)

    executor = futures.ThreadPoolExecutor(max_workers=job.concur_req)
    to_do = []
    try:
        for index in range(job.requests):
            to_do.append(executor.submit(get_one, index))
        for future in futures.as_completed(to_do):
            done(future.result())
    except KeyboardInterrupt:
        # Queued requests are cancelled; running ones cannot be aborted in
        # requests, so they are abandoned (counted cancelled, never saved:
        # job.finish checks the flag) and the process exits without them.
        job.interrupt()
        executor.shutdown(wait=False, cancel_futures=True)
        for future in to_do:
            if future.done() and not future.cancelled():
                res = future.result()
                if res.index not in job.results:
                    done(res)
        return
    executor.shutdown(wait=True)
    for session in sessions:
        session.close()


if __name__ == '__main__':
    common.main(download_many, backend='py-threadpool',
                default_concur_req=DEFAULT_CONCUR_REQ, max_concur_req=MAX_CONCUR_REQ,
                fds_per_transfer=2,  # the socket and the file being saved
                library=f'requests {requests.__version__}; urllib3 {urllib3.__version__}',
                no_http2='requests has no HTTP/2 (py-threadpool is not run over HTTP/2)')
