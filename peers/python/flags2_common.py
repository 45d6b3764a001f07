#!/usr/bin/python3
"""flags2_common.py -- what flags2_threadpool.py and flags2_asyncio.py share.

The book's flags2_common.py, rewritten for flagbench so that the two Python
programs run exactly the experiment the C clients run (common/main.c, cli.c,
report.c, record.c, xfer.c): the same command line subset, header and summary
lines, exit statuses, save-then-rename, and --json record. A backend module
supplies one function, download_many(job, done), and calls main() with it.

download_many contract (as common/flags.h): call done(result) once per
request index, on the main thread, as results complete; on SIGINT/SIGTERM call
job.interrupt(), stop, and return -- every index it never reported is counted
as cancelled by main().
"""

import argparse
import enum
import errno
import json
import os
import re
import resource
import signal
import socket
import ssl
import stat
import sys
import threading
import time

DEFAULT_OUTPUT = 'downloaded'
DEFAULT_TIMEOUT_S = 3.1  # the book's
MAX_TIMEOUT_S = 86400.0
MAX_REQUESTS = 10_000_000  # codes x --repeat
MAX_BODY = 16 * 1024 * 1024
FD_MARGIN = 64
TRUNCATED = 'transfer closed with outstanding read data remaining'  # curl's words
# An HTTPS body that only the connection's close could end (no Content-Length,
# no Transfer-Encoding), when the connection closed without the server's TLS
# close_notify: it may have been cut anywhere (common/xfer.h's
# FLAGS_MSG_TLS_TRUNCATED, the same words).
TLS_TRUNCATED = 'response body cut short: the TLS connection closed without close_notify'


def close_delimited(headers):
    """True when a response with these headers has a body that only the
    connection's close ends (common/xfer.c's close_delimited)."""
    return 'Content-Length' not in headers and 'Transfer-Encoding' not in headers
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
LONG_MAX = 2**63 - 1

SERVERS = {  # sorted by label, as the usage message lists them
    'DELAY': 'http://localhost:8001/flags',
    'ERROR': 'http://localhost:8002/flags',
    'LOCAL': 'http://localhost:8000/flags',
    'REMOTE': 'https://www.fluentpython.com/data/flags',
}
DEFAULT_SERVER = 'LOCAL'

POP20_CC = ('CN IN US ID BR PK NG BD RU JP '
            'MX PH VN ET EG DE IR TR CD FR').split()

CODES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          '..', '..', 'data', 'country_codes.txt')

HTTP_REASONS = {
    301: 'Moved Permanently', 302: 'Found', 400: 'Bad Request',
    401: 'Unauthorized', 403: 'Forbidden', 405: 'Method Not Allowed',
    408: 'Request Timeout', 418: "I'm a Teapot", 429: 'Too Many Requests',
    500: 'Internal Server Error', 502: 'Bad Gateway',
    503: 'Service Unavailable', 504: 'Gateway Timeout',
}


class Status(enum.IntEnum):
    OK = 0          # HTTP 200 and the file was saved
    NOT_FOUND = 1   # HTTP 404
    ERROR = 2       # anything else
    CANCELLED = 3   # interrupted before or during the transfer


class Result:
    """How one request ended (common/flags.h's struct flags_result)."""
    __slots__ = ('index', 'status', 'latency_s', 'nbytes', 'connects', 'msg', 'protocol')

    def __init__(self, index, status, latency_s=0.0, nbytes=0, connects=0,
                 msg='', protocol=None):
        self.index = index
        self.status = status
        self.latency_s = latency_s
        self.nbytes = nbytes
        self.connects = connects
        self.msg = msg
        self.protocol = protocol  # 'http/1.1' or 'h2' for a response; None: none


class UsageError(Exception):
    """A bad command line: one line, then the usage, exit 2."""


class Job:
    """The work, read-only for the backend except for the cancel machinery.

    Request i downloads codes[i % ncodes]. Saving and cancelling are
    serialised so that an interrupt never lands between "not cancelled" and
    the end of a save: job.interrupt() returns only once no save is running,
    and no save starts after it.
    """

    def __init__(self, codes, repeat, base_url, outdir_fd, concur_req,
                 timeout_s, fresh_connect, save_in_executor=False, cacert=None):
        self.codes = codes
        self.ncodes = len(codes)
        self.requests = len(codes) * repeat
        self.base_url = base_url
        self.outdir_fd = outdir_fd
        self.concur_req = concur_req
        self.timeout_s = timeout_s
        self.fresh_connect = fresh_connect
        self.save_in_executor = save_in_executor
        self.cacert = cacert  # --cacert FILE, or None: the system's CAs
        self.results = {}  # index -> Result, filled by main's done callback
        # index -> Result of every saved file, written by whichever thread
        # saved it: after an interrupt, main reports those the backend had
        # no time to, so a file on disk is always counted OK.
        self.saved = {}
        self.cancelled = threading.Event()
        self._pid = os.getpid()
        self._lc = [cc.lower() for cc in codes]
        self._save_cond = threading.Condition()
        self._saving = 0
        self._rename_lock = threading.Lock()  # _save: check, rename, check as one step

    def cc(self, index):
        return self.codes[index % self.ncodes]

    def url(self, index):
        lc = self._lc[index % self.ncodes]
        return f'{self.base_url}/{lc}/{lc}.gif'

    def interrupt(self):
        """Marks the run cancelled and waits until no save is in progress.
        A second SIGINT/SIGTERM from now on exits at once with 130."""
        with self._save_cond:
            self.cancelled.set()
            while self._saving:
                self._save_cond.wait()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, _exit_now)

    def finish(self, index, http_status, body, latency_s, connects, protocol='http/1.1'):
        """Classifies a completed transfer, saves CC.gif on 200, returns its
        Result (common/xfer.c's flags_xfer_finish), which names the protocol
        the response came over. Thread-safe."""
        res = self._finish(index, http_status, body, latency_s, connects)
        res.protocol = protocol
        return res

    def _finish(self, index, http_status, body, latency_s, connects):
        nbytes = len(body)
        if len(body) > MAX_BODY:
            return Result(index, Status.ERROR, latency_s, nbytes, connects,
                          f'body larger than {MAX_BODY} bytes')
        if http_status == 404:
            return Result(index, Status.NOT_FOUND, latency_s, nbytes, connects)
        if http_status != 200:
            reason = HTTP_REASONS.get(http_status) or (
                'Server Error' if http_status >= 500 else
                'Client Error' if http_status >= 400 else 'Unexpected')
            return Result(index, Status.ERROR, latency_s, nbytes, connects,
                          f'HTTP error {http_status} - {reason}')
        with self._save_cond:
            if self.cancelled.is_set():
                return Result(index, Status.CANCELLED, latency_s, nbytes,
                              connects, 'interrupted')
            self._saving += 1
        try:
            cc = self.cc(index)
            try:
                self._save(cc, index, body)
            except OSError as exc:
                # EXDEV: _save's word for "the temporary file's name was
                # taken over" (a rename within one folder never says it).
                why = ('its temporary file was replaced during the transfer'
                       if exc.errno == errno.EXDEV else os.strerror(exc.errno))
                return Result(index, Status.ERROR, latency_s, nbytes, connects,
                              f'cannot save {cc}.gif: {why}')
            res = Result(index, Status.OK, latency_s, nbytes, connects)
            self.saved[index] = res
            return res
        finally:
            with self._save_cond:
                self._saving -= 1
                if self._saving == 0:
                    self._save_cond.notify_all()

    def _save(self, cc, index, body):
        # Written under a name unique to this process and request, renamed
        # over CC.gif only when complete: never a partial file.
        # A run killed by SIGKILL with this pid (pids repeat, in containers
        # at once) may have left the name: not ours to touch, so the next of
        # .CC.gif.PID.INDEX.K.part is taken (common/xfer.c's part_create).
        dfd = self.outdir_fd
        tmp = f'.{cc}.gif.{self._pid}.{index}.part'
        for k in range(1, 1002):
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
                             | os.O_NOFOLLOW, 0o644, dir_fd=dfd)
                break
            except FileExistsError:
                if k > 1000:
                    raise
                tmp = f'.{cc}.gif.{self._pid}.{index}.{k}.part'
        st = os.fstat(fd)

        def ours(name):
            # The name is still the inode written through fd (no symlink
            # followed): common/xfer.c's part_is_ours.
            try:
                now = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            except OSError:
                return False
            return (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)

        try:
            try:
                view = memoryview(body)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            # In turn with the other saves of this run, so a concurrent save
            # of the same code cannot fail the check after the rename
            # (common/save.c's flags_saver_rename).
            with self._rename_lock:
                if not ours(tmp):
                    raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
                os.replace(tmp, f'{cc}.gif', src_dir_fd=dfd, dst_dir_fd=dfd)
                if not ours(f'{cc}.gif'):
                    raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        except BaseException:
            if ours(tmp):
                try:
                    os.unlink(tmp, dir_fd=dfd)
                except OSError:
                    pass
            raise


def _exit_now(signum, frame):
    """Second signal: the user insists (common/cancel.c)."""
    os._exit(EXIT_INTERRUPTED)


# ---------------------------------------------------------------- messages

def describe_error(exc, job, url, handshake=False):
    """One line for a failed transfer, in curl's words where the failure is
    the same, so the same failure reads the same in every program. TLS
    failures get common/xfer.c's own words (flags_tls_reason). handshake:
    the failure came after the TCP connection was made and before the TLS
    handshake ended (the backend knows; an exception marked
    flagbench_tls_handshake says so too)."""
    seen = []
    todo = [exc]
    while todo:  # the exception, its args, causes and contexts
        e = todo.pop()
        if not isinstance(e, BaseException) or any(e is s for s in seen):
            continue
        seen.append(e)
        todo.extend(a for a in getattr(e, 'args', ()) if isinstance(a, BaseException))
        for attr in ('reason', 'os_error', '__cause__', '__context__'):
            todo.append(getattr(e, attr, None))
    names = set()
    for e in seen:
        for k in type(e).__mro__:
            names.add(k.__name__)
    handshake = handshake or any(getattr(e, 'flagbench_tls_handshake', False) for e in seen)
    tls = _tls_reason(seen, names, url.lower().startswith('https://') and handshake, job)
    if tls:
        return tls
    h2 = _h2_reason(seen, names, job)
    if h2:
        return h2
    host, port = _host_port(url)
    if any(isinstance(e, socket.gaierror) for e in seen) or 'NameResolutionError' in names:
        return f'Could not resolve host: {host}'
    if any(isinstance(e, ConnectionRefusedError) for e in seen):
        return f"Failed to connect to {host} port {port}: Couldn't connect to server"
    if any(isinstance(e, ConnectionResetError) for e in seen):
        return 'Recv failure: Connection reset by peer'
    # By exact class: urllib3's NewConnectionError (refused, unreachable)
    # derives from ConnectTimeoutError without being a timeout.
    if any(isinstance(e, TimeoutError) or type(e).__name__ in _TIMEOUTS for e in seen):
        return f'Operation timed out after {round(job.timeout_s * 1000)} milliseconds'
    if names & {'RemoteDisconnected', 'ServerDisconnectedError'}:
        # Closed before a status line: http.client and aiohttp say so
        # when nothing of a response came (curl's CURLE_GOT_NOTHING).
        return 'Empty reply from server'
    if names & {'IncompleteRead', 'ClientPayloadError', 'ServerDisconnectedError',
                'ProtocolError', 'ChunkedEncodingError', 'RemoteDisconnected',
                'ContentLengthError'}:
        return TRUNCATED
    text = ' '.join(str(exc).split()) or type(exc).__name__
    return f'{type(exc).__name__}: {text}'[:255]


# common/xfer.c's words for a stream cut off by its connection's end.
H2_CUT_OFF = 'HTTP/2 stream was not closed cleanly before end of the underlying stream'


def _h2_reason(seen, names, job):
    """common/xfer.c's HTTP/2 words (libcurl's, without stream numbers): a
    stream the server reset, or one cut off when its connection was reset or
    closed; None for anything else or without --http2."""
    if not getattr(job, 'http2', False):
        return None
    for e in seen:
        for arg in getattr(e, 'args', ()):
            code = getattr(arg, 'error_code', None)
            if code is None:
                continue
            if getattr(arg, 'stream_id', 0):  # h2's StreamReset
                return f'HTTP/2 stream was not closed cleanly: {getattr(code, "name", code)}'
            return H2_CUT_OFF  # ConnectionTerminated: a GOAWAY with the stream open
    if any(isinstance(e, ConnectionResetError) for e in seen) or any(
            'Server disconnected' in str(e) for e in seen):
        return H2_CUT_OFF
    return None


# OpenSSL's X509_V_ERR_* codes (ssl.SSLCertVerificationError.verify_code),
# grouped as common/xfer.c's flags_tls_reason groups them.
_UNKNOWN_CA = {2, 18, 19, 20, 21, 27}
_TLS_FAILED = 'TLS handshake failed: '


def _tls_reason(seen, names, in_handshake, job):
    """common/xfer.c's flags_tls_reason: the words for a failed certificate
    check, or for a handshake that timed out, was reset or closed, or met a
    server that does not speak TLS; None for anything else."""
    # aiohttp's ClientConnectorCertificateError is itself an
    # SSLCertVerificationError without a code: the one with a code decides.
    # urllib3 1.26 checks the host name itself: its CertificateError.
    certs = [e for e in seen if isinstance(e, ssl.SSLCertVerificationError)
             or type(e).__name__ == 'CertificateError']
    if certs:
        codes = [getattr(e, 'verify_code', None) for e in certs]
        code = next((c for c in codes if c), 0)
        text = ' '.join(str(e) for e in certs)
        if code in _UNKNOWN_CA:
            return _TLS_FAILED + 'certificate signed by an unknown CA'
        if code == 10:
            return _TLS_FAILED + 'certificate expired'
        if code == 9:
            return _TLS_FAILED + 'certificate not yet valid'
        # 62/64: OpenSSL's name check (aiohttp); urllib3: "doesn't match".
        if code in (62, 64) or "doesn't match" in text or 'mismatch' in text:
            return _TLS_FAILED + 'certificate does not match the host name'
        return _TLS_FAILED + f'certificate rejected (X509 error {code})'
    if not in_handshake:
        return None
    if any(isinstance(e, ConnectionResetError) for e in seen):
        return _TLS_FAILED + 'connection reset by the server'
    if any(isinstance(e, TimeoutError) or type(e).__name__ in _TIMEOUTS for e in seen):
        return f'TLS handshake timed out after {round(job.timeout_s * 1000)} milliseconds'
    ssl_errors = [e for e in seen if isinstance(e, ssl.SSLError)]
    text = ' '.join(f'{getattr(e, "reason", "")} {e}' for e in ssl_errors).lower()
    if any(w in text for w in ('wrong_version_number', 'wrong version number',
                               'record_layer_failure', 'packet_length_too_long',
                               'http_request')):
        return _TLS_FAILED + 'the server does not speak TLS'
    if (any(isinstance(e, (ssl.SSLEOFError, ConnectionAbortedError)) for e in seen)
            or 'eof' in text or names & {'RemoteDisconnected', 'ServerDisconnectedError'}):
        return _TLS_FAILED + 'connection closed by the server'
    if ssl_errors:
        return _TLS_FAILED + (ssl_errors[0].reason or str(ssl_errors[0]))
    return None


_TIMEOUTS = {'ReadTimeoutError', 'ConnectTimeoutError', 'ReadTimeout', 'ConnectTimeout',
             'Timeout', 'ServerTimeoutError'}


def _host_port(url):
    m = re.match(r'(?i)(https?)://(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)(?::(\d+))?', url)
    if not m:
        return '?', '?'
    host = m.group(2).strip('[]')
    port = m.group(3) or ('443' if m.group(1).lower() == 'https' else '80')
    return host, port


# ---------------------------------------------------------------- command line

def usage(prog):
    return (f'usage: {prog} [-h] [-a] [-e] [-l N] [-m CONCURRENT] [-s LABEL|URL] [-v]\n'
            f'       [--output DIR] [--timeout SECONDS] [--repeat K] [--json FILE]\n'
            f'       [--latencies FILE] [--quiet] [--fresh-connect]\n'
            f'       [--cacert FILE] [--http2]{{extra}} [CC ...]\n')


def help_text(prog, default_concur_req, max_concur_req, extra_help):
    return (usage(prog) +
            '\nDownload flags for country codes. Default: top 20 countries by population.\n'
            '\npositional arguments:\n'
            '  CC                    country code or 1st letter (eg. B for BA...BZ)\n'
            '\noptions:\n'
            '  -h, --help            show this help message and exit\n'
            '  -a, --all             get all available flags (AD to ZW)\n'
            '  -e, --every           get flags for every possible code (AA...ZZ)\n'
            '  -l N, --limit N       limit to N first codes\n'
            '  -m CONCURRENT, --max_req CONCURRENT\n'
            f'                        maximum concurrent requests (default={default_concur_req}, '
            f'max={max_concur_req})\n'
            '  -s LABEL, --server LABEL\n'
            '                        Server to hit; one of DELAY, ERROR, LOCAL, REMOTE\n'
            '                        (default=LOCAL), or a URL starting with http:// or https://\n'
            '  -v, --verbose         output detailed progress info\n'
            f'  --output DIR          save the flags in DIR (default={DEFAULT_OUTPUT})\n'
            '  --timeout SECONDS     per-request timeout (default=3.1)\n'
            '  --repeat K            request the list K times over (default=1)\n'
            '  --json FILE           append a JSON record of the run to FILE\n'
            '  --latencies FILE      append each request\'s latency in ms to FILE\n'
            '  --quiet               print the summary only\n'
            '  --fresh-connect       a new connection per request (no keep-alive)\n'
            '  --cacert FILE         trust only the CA certificates in FILE (PEM) for https\n'
            '                        servers (default: the system\'s); always verified\n'
            '  --http2               HTTP/2: h2 for https:// (ALPN), h2c with prior knowledge\n'
            '                        for http:// (flags2_asyncio.py only: httpx)\n'
            + extra_help)


class _Parser(argparse.ArgumentParser):
    """argparse with the C clients' one-line usage errors."""

    def error(self, message):
        m = re.match(r'unrecognized arguments: (\S+)', message)
        if m:
            raise UsageError(f"unrecognized option '{m.group(1)}'")
        m = re.match(r'ambiguous option: (\S+?)(=\S*)? could match', message)
        if m:
            raise UsageError(f"unrecognized option '{m.group(1)}'")
        m = re.match(r'argument (\S+): expected one argument', message)
        if m:
            spellings = m.group(1).split('/')
            raise UsageError(f"option '{self._spelled(spellings)}' needs an argument")
        raise UsageError(message)

    def _spelled(self, spellings):
        # The spelling the user typed: the last argv word naming the option.
        for word in reversed(sys.argv[1:]):
            for s in spellings:
                if word == s or (s.startswith('--') and len(word) > 2 and
                                 word.startswith('--') and s.startswith(word)):
                    return word
        return spellings[-1]


def _parse_long(arg, what, lo=-LONG_MAX - 1, hi=LONG_MAX):
    # As flags_parse_long: a whole decimal integer, no blanks, no junk.
    if not re.fullmatch(r'[+-]?[0-9]+', arg):
        raise UsageError(f"{what} must be an integer, not '{arg}'")
    v = int(arg)
    if not lo <= v <= hi:
        raise UsageError(f"{what} is out of range: '{arg}'")
    return v


def _parse_timeout(arg):
    ok = re.fullmatch(r'([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?', arg)
    s = float(arg) if ok else 0.0
    if not ok or not 0 < s <= MAX_TIMEOUT_S:
        raise UsageError(f'--timeout SECONDS must be a number > 0 and <= '
                         f'{MAX_TIMEOUT_S:.0f}, not \'{arg}\'')
    return max(1, int(s * 1000.0 + 0.5)) / 1000.0


def check_url(url):
    """flags_check_url: http(s)://, a host, no blanks or control bytes."""
    m = re.match(r'(?i)https?://', url)
    if not m or any(ord(c) <= 32 or ord(c) == 0x7f for c in url):
        return False
    rest = url[m.end():]
    authority = re.split(r'[/?#]', rest, maxsplit=1)[0]
    host = authority.rsplit('@', 1)[-1]
    return bool(host) and not host.startswith(':')


def _check_cacert(path):
    """--cacert FILE must be a readable file holding a PEM certificate in its
    first 16 MiB now (common/cli.c's parse_cacert, the same words)."""
    if path == '':
        raise UsageError('--cacert FILE must not be empty')
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        raise UsageError(f"--cacert FILE cannot be read: '{path}': "
                         f'{os.strerror(exc.errno)}') from None
    with os.fdopen(fd, 'rb') as f:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"--cacert FILE cannot be read: '{path}': "
                             f'{os.strerror(errno.EISDIR)}')
        if not stat.S_ISREG(mode):
            raise UsageError(f"--cacert FILE is not a regular file: '{path}'")
        try:
            data = f.read(16 * 1024 * 1024)
        except OSError as exc:
            raise UsageError(f"--cacert FILE cannot be read: '{path}': "
                             f'{os.strerror(exc.errno)}') from None
    if b'-----BEGIN CERTIFICATE-----' not in data:
        raise UsageError(f"--cacert FILE holds no PEM certificate: '{path}'")


def _parse_server(arg):
    for label, url in SERVERS.items():
        if arg.upper() == label:
            return label, url
    if not re.match(r'(?i)https?://', arg):
        if re.search(r'[:/.]', arg):
            raise UsageError(f"--server URL must start with http:// or https://: '{arg}'")
        raise UsageError('--server LABEL must be one of DELAY, ERROR, LOCAL, REMOTE')
    if not check_url(arg):
        raise UsageError(f"--server URL must have a host and no blanks: '{arg}'")
    problem = _server_url_problem(arg)
    if problem:
        raise UsageError(f"--server URL {problem}: '{arg}'")
    return 'CUSTOM', arg.rstrip('/')


def _server_url_problem(url):
    """common/cli.c's server_url_problem: None, or the rule a base URL
    breaks (a query or fragment would land in the middle of every request's
    URL; a port is 1 to 65535), in the same words."""
    rest = url[url.index('://') + 3:]
    authority = re.split(r'[/?#]', rest, maxsplit=1)[0]
    if '?' in url or '#' in url:
        return 'must not have a query or a fragment'
    authority = authority.rsplit('@', 1)[-1]  # user:password: used, and masked
    port = None
    if authority.startswith('['):  # an IPv6 literal: [addr] then an optional :port
        close = authority.find(']')
        if close < 0:
            return 'must have a host and no blanks'
        after = authority[close + 1:]
        if after.startswith(':'):
            port = after[1:]
        elif after:
            return 'must have a port from 1 to 65535'
    elif ':' in authority:
        port = authority.split(':', 1)[1]
    if port is not None:
        if (not port or len(port) > 5 or not all('0' <= c <= '9' for c in port)
                or not 1 <= int(port) <= 65535):
            return 'must have a port from 1 to 65535'
    return None


def _country_codes():
    with open(CODES_FILE, encoding='ascii') as f:
        return f.read().split()


def expand_cc_args(every, all_cc, cc_args, limit):
    """The book's expand_cc_args: a sorted, deduplicated list of codes."""
    letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
    if every:
        codes = {a + b for a in letters for b in letters}
    elif all_cc:
        codes = set(_country_codes())
    elif not cc_args:
        codes = set(POP20_CC)
    else:
        codes = set()
        for cc in cc_args:
            if not re.fullmatch(r'[A-Za-z]{1,2}', cc):
                raise UsageError('each CC argument must be A to Z or AA to ZZ.')
            cc = cc.upper()
            if len(cc) == 1:
                codes.update(cc + b for b in letters)
            else:
                codes.add(cc)
    return sorted(codes)[:limit]


def parse_args(argv, default_concur_req, extra_options):
    """Parses argv (without the program name) into an argparse.Namespace
    with validated fields; raises UsageError. Returns None for -h."""
    p = _Parser(add_help=False, allow_abbrev=True)
    p.add_argument('cc', nargs='*')
    p.add_argument('-h', '--help', action='store_true')
    p.add_argument('-a', '--all', action='store_true')
    p.add_argument('-e', '--every', action='store_true')
    p.add_argument('-l', '--limit')
    p.add_argument('-m', '--max_req')
    p.add_argument('-s', '--server', default=DEFAULT_SERVER)
    p.add_argument('-v', '--verbose', action='store_true')
    p.add_argument('--output', default=DEFAULT_OUTPUT)
    p.add_argument('--timeout')
    p.add_argument('--repeat')
    p.add_argument('--json')
    p.add_argument('--latencies')
    p.add_argument('--quiet', action='store_true')
    p.add_argument('--fresh-connect', action='store_true')
    p.add_argument('--cacert')
    p.add_argument('--http2', action='store_true')
    for name, _help in extra_options:
        p.add_argument(name, action='store_true')
    a = p.parse_intermixed_args(argv)
    if a.help:
        return None
    if a.output == '':
        raise UsageError('--output DIR must not be empty')
    a.timeout_s = DEFAULT_TIMEOUT_S if a.timeout is None else _parse_timeout(a.timeout)
    if a.repeat is None:
        a.repeat = 1
    else:
        a.repeat = _parse_long(a.repeat, '--repeat K')
        if a.repeat < 1:
            raise UsageError('--repeat K must be >= 1')
        if a.repeat > MAX_REQUESTS:
            raise UsageError(f'--repeat K must be <= {MAX_REQUESTS}')
    for opt in ('json', 'latencies'):
        if getattr(a, opt) == '':
            raise UsageError(f'--{opt} FILE must not be empty')
    if a.cacert is not None:
        _check_cacert(a.cacert)
    # The book checks in this order: -m, -l, -s, then the CC arguments.
    a.max_req = (default_concur_req if a.max_req is None
                 else _parse_long(a.max_req, '--max_req CONCURRENT'))
    if a.max_req < 1:
        raise UsageError('--max_req CONCURRENT must be >= 1')
    if a.limit is not None:
        a.limit = _parse_long(a.limit, '--limit N')
        if a.limit < 1:
            raise UsageError('--limit N must be >= 1')
    a.server_label, a.base_url = _parse_server(a.server)
    a.codes = expand_cc_args(a.every, a.all, a.cc, a.limit)
    if not a.codes:
        raise UsageError('no country codes to download')
    if a.repeat > MAX_REQUESTS // len(a.codes):
        raise UsageError(f'{len(a.codes)} codes x --repeat {a.repeat} is more than '
                         f'{MAX_REQUESTS} requests')
    return a


# ---------------------------------------------------------------- output

class _Out:
    """stdout that survives a closed pipe (the C clients ignore SIGPIPE)."""

    def __init__(self):
        self.alive = True

    def write(self, text):
        if not self.alive:
            return
        try:
            sys.stdout.write(text)
        except OSError:
            self._die()

    def flush(self):
        if not self.alive:
            return
        try:
            sys.stdout.flush()
        except OSError:
            self._die()

    def _die(self):
        self.alive = False
        # Nothing more reaches the pipe; keep interpreter exit from failing.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except OSError:
            pass


def redact_url(url):
    """common/report.c's flags_redact_url: the userinfo of url shown as ***,
    control bytes as '?'."""
    start = url.find('://')
    start = start + 3 if start >= 0 else 0
    end = start + len(re.split(r'[/?#]', url[start:], maxsplit=1)[0])
    at = url.rfind('@', start, end)  # the last one: a password may hold an '@'
    if at >= 0:
        url = url[:start] + '***' + url[at:]
    return ''.join('?' if ord(c) < 0x20 or ord(c) == 0x7f else c for c in url)


def header(label, url, codes, repeat, concur_req):
    n = len(codes)
    lines = [f'{label} site: {url}']
    found = ', '.join(codes) if n <= 10 else f'from {codes[0]} to {codes[-1]}'
    lines.append(f"Searching for {n} flag{'' if n == 1 else 's'}: {found}")
    if repeat > 1:
        lines.append(f'Each {repeat} times over: {n * repeat} requests.')
    if concur_req == 1:
        lines.append('1 connection will be used.')
    else:
        lines.append(f'{concur_req} concurrent connections will be used.')
    return '\n'.join(lines) + '\n'


def summary(counts, elapsed_s):
    ok, nf, err, canc = counts
    lines = ['--------------------', f"{ok:3d} flag{'' if ok == 1 else 's'} downloaded."]
    if nf:
        lines.append(f'{nf:3d} not found.')
    if err:
        lines.append(f"{err:3d} error{'' if err == 1 else 's'}.")
    if canc:
        lines.append(f'{canc:3d} cancelled.')
    lines.append(f'Elapsed time: {elapsed_s:.2f}s')
    return '\n'.join(lines) + '\n'


def result_line(job, res):
    cc = job.cc(res.index)
    if res.status == Status.OK:
        return f'{cc} OK\n'
    if res.status == Status.NOT_FOUND:
        return f'{cc} not found: {redact_url(job.url(res.index))}\n'
    if res.status == Status.ERROR:
        return f'{cc} error: {res.msg}\n'
    return f'{cc} cancelled\n'


class _Progress:
    """The C clients' progress bar on a terminal's stderr."""
    CELLS = 40

    def __init__(self, enabled, total):
        self.enabled, self.total, self.done = enabled, total, 0
        self.open, self.last = False, 0.0

    def step(self):
        self.done += 1
        if not self.enabled:
            return
        now = time.monotonic()
        if self.done == self.total or not self.open or now - self.last >= 0.05:
            cells = int(self.done / self.total * self.CELLS) if self.total else 0
            pct = self.done * 100 // self.total if self.total else 100
            sys.stderr.write(f"\r{pct:3d}% |{'#' * cells}{' ' * (self.CELLS - cells)}| "
                             f'{self.done}/{self.total}')
            sys.stderr.flush()
            self.open, self.last = True, now

    def end(self):
        if self.enabled and self.open:
            sys.stderr.write('\n')
            sys.stderr.flush()
        self.open = False


# ---------------------------------------------------------------- record

def percentile(sorted_values, pct):
    """Nearest rank, as common/stats.c."""
    n = len(sorted_values)
    if n == 0:
        return 0.0
    rank = -(-pct * n // 100)
    return sorted_values[max(rank, 1) - 1]


def _record_open(path):
    """common/record.c's flags_record_open: path opened for appending (created
    0644) before the run, without blocking, so a FIFO nobody reads is one
    clear line now, not a hang after the run."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
                   | os.O_NONBLOCK, 0o644)


def _record_strerror(exc):
    """common/record.c's flags_record_strerror."""
    if exc.errno == errno.ENXIO:
        return 'no process is reading this FIFO'
    if exc.errno == errno.EAGAIN:
        return 'its reader takes nothing (full FIFO or socket)'
    return os.strerror(exc.errno)


def _append(fd, data):
    """One write appended through fd, which is closed, as
    flags_record_append_fd."""
    try:
        if os.write(fd, data) != len(data):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
    finally:
        os.close(fd)


def record_line(rec):
    """common/record.c's line: the same keys, order and number formats."""
    lat = rec['latency_ms']
    return ('{"backend":%s,"concur_req":%d,"requests":%d,"ok":%d,"not_found":%d,'
            '"errors":%d,"cancelled":%d,"elapsed_s":%.6f,"bytes":%d,"flags_per_s":%.3f,'
            '"latency_ms":{"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f},'
            '"cpu_user_s":%.6f,"cpu_sys_s":%.6f,"max_rss_kb":%d,"connections":%d,'
            '"server":%s,"url":%s,"libcurl":%s,"timeout_s":%.3f,"fresh_connect":%s,'
            '"loops":%d,"save_threads":%d,"multis":%d,"fds_per_transfer":%d,"proxy_env":%s,'
            '"http2":%s,"protocol":%s,"streams":%s}\n') % (
        json.dumps(rec['backend']), rec['concur_req'], rec['requests'], rec['ok'],
        rec['not_found'], rec['errors'], rec['cancelled'], rec['elapsed_s'], rec['bytes'],
        rec['flags_per_s'], lat['p50'], lat['p90'], lat['p99'], lat['max'],
        rec['cpu_user_s'], rec['cpu_sys_s'], rec['max_rss_kb'], rec['connections'],
        json.dumps(rec['server']), json.dumps(rec['url']), json.dumps(rec['libcurl']),
        rec['timeout_s'], json.dumps(rec['fresh_connect']), rec['loops'], rec['save_threads'],
        rec['multis'], rec['fds_per_transfer'], json.dumps(rec['proxy_env']),
        json.dumps(rec['http2']), json.dumps(rec['protocol']), json.dumps(rec['streams']))


# ---------------------------------------------------------------- main

def _fdlimit_ensure(concur_req, fds_per_transfer):
    need = concur_req * fds_per_transfer + FD_MARGIN
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    inf = resource.RLIM_INFINITY
    if soft == inf or soft >= need:
        return None
    if hard != inf and hard < need:
        most = (hard - FD_MARGIN) // fds_per_transfer if hard > FD_MARGIN else 0
        return (f'*** {concur_req} concurrent transfers need {need} file descriptors '
                f'({fds_per_transfer} each), but the hard limit is {hard} (ulimit -Hn); '
                f'use -m {most} or less')
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    except (OSError, ValueError) as exc:
        return f'*** cannot raise the file descriptor limit to {need}: {exc}'
    return None


def main(download_many, *, backend, default_concur_req, max_concur_req,
         fds_per_transfer, library, extra_options=(), no_http2=None):
    """The book's flags2_common.main(download_many, DEFAULT_CONCUR_REQ,
    MAX_CONCUR_REQ), with flagbench's common/main.c behaviour. Exits the
    process: 0 all downloaded or not found, 1 any error, 2 usage error,
    130 interrupted. extra_options: (option, help line) pairs of store_true
    switches this program adds, readable as job attributes. no_http2: why
    this program refuses --http2 (a usage error), or None: job.http2 says."""
    prog = os.path.basename(sys.argv[0]) if sys.argv else backend
    extra_usage = ''.join(f' [{name}]' for name, _ in extra_options)
    extra_help = ''.join(f'  {name:<20}  {text}\n' for name, text in extra_options)
    try:
        args = parse_args(sys.argv[1:], default_concur_req, extra_options)
    except UsageError as exc:
        sys.stderr.write(f'*** Usage error: {exc}\n' + usage(prog).format(extra=extra_usage))
        sys.exit(EXIT_USAGE)
    if args is not None and args.http2 and no_http2:
        sys.stderr.write(f'*** Usage error: --http2: {no_http2}\n')
        sys.exit(EXIT_USAGE)
    if args is None:
        sys.stdout.write(help_text(prog, default_concur_req, max_concur_req,
                                   extra_help).format(extra=extra_usage))
        sys.exit(0)

    requests = len(args.codes) * args.repeat
    concur_req = min(args.max_req, max_concur_req, requests)
    err = _fdlimit_ensure(concur_req, fds_per_transfer)
    if err:
        sys.stderr.write(err + '\n')
        sys.exit(EXIT_USAGE)
    # --json and --latencies are opened before anything runs, as in C.
    files = {}
    for path in (args.json, args.latencies):
        if path and path not in files:
            try:
                files[path] = _record_open(path)
            except OSError as exc:
                sys.stderr.write(f'{prog}: cannot append to {path}: {_record_strerror(exc)}\n')
                sys.exit(1)
    try:
        try:
            os.makedirs(args.output, mode=0o755, exist_ok=True)
        except FileExistsError:
            pass  # a file, not a folder: the open says so, in C's words
        outdir_fd = os.open(args.output, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        sys.stderr.write(f'{prog}: cannot use output directory {args.output}: '
                         f'{os.strerror(exc.errno)}\n')
        sys.exit(1)

    job = Job(args.codes, args.repeat, args.base_url, outdir_fd, concur_req,
              args.timeout_s, args.fresh_connect, cacert=args.cacert)
    job.http2 = args.http2
    for name, _ in extra_options:
        attr = name.lstrip('-').replace('-', '_')
        setattr(job, attr, getattr(args, attr))
    # SIGINT and SIGTERM interrupt, even when the shell that started us in
    # the background set SIGINT to be ignored (Python would keep that).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.default_int_handler)
    out = _Out()
    verbose = args.verbose and not args.quiet
    if not args.quiet:
        out.write(header(args.server_label, redact_url(args.base_url), args.codes, args.repeat,
                         concur_req))
        out.flush()
    progress = _Progress(not args.verbose and not args.quiet and sys.stderr.isatty(), requests)
    results = job.results
    latencies_ms = []  # completion order, OK and not found only

    def done(res):
        if not 0 <= res.index < requests or res.index in results:
            sys.stderr.write(f'*** bug: result for request {res.index} '
                             f"{'delivered twice' if res.index in results else 'out of range'}\n")
            os.abort()
        results[res.index] = res
        if res.status in (Status.OK, Status.NOT_FOUND):
            latencies_ms.append(res.latency_s * 1000.0)
        if verbose:
            out.write(result_line(job, res))
        progress.step()

    backend_error = None
    t0 = time.monotonic()
    try:
        download_many(job, done)
    except KeyboardInterrupt:
        job.interrupt()
    except Exception as exc:  # could not run at all: every request an error
        backend_error = f'{type(exc).__name__}: {exc}'
    elapsed = time.monotonic() - t0
    if job.cancelled.is_set():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _exit_now)
    if job.cancelled.is_set():
        for i, res in sorted(job.saved.items()):
            if i not in results:
                done(res)
    for i in range(requests):  # what never came back
        if i not in results:
            if backend_error:
                done(Result(i, Status.ERROR, msg=backend_error))
            else:
                done(Result(i, Status.CANCELLED, msg='interrupted'))
    progress.end()

    counts = [0, 0, 0, 0]
    nbytes = connections = 0
    protocols = set()
    for res in results.values():
        counts[res.status] += 1
        nbytes += res.nbytes
        connections += res.connects
        if res.protocol:
            protocols.add(res.protocol)
    protocol = None  # as common/main.c's measured_protocol
    if len(protocols) > 1:
        protocol = 'mixed'
    elif protocols == {'h2'}:
        protocol = 'h2' if args.base_url.lower().startswith('https://') else 'h2c'
    elif protocols:
        protocol = protocols.pop()
    out.write(summary(counts, elapsed))
    out.flush()
    status = 0
    if backend_error:
        sys.stderr.write(f'{prog}: the {backend} backend failed: {backend_error}\n')
        status = 1

    if args.json:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        lat = sorted(latencies_ms)
        saver_threads = (min(32, (os.cpu_count() or 1) + 4)  # ThreadPoolExecutor's default
                         if getattr(args, 'save_in_executor', False) else 0)
        rec = {
            'backend': backend, 'concur_req': concur_req, 'requests': requests,
            'ok': counts[Status.OK], 'not_found': counts[Status.NOT_FOUND],
            'errors': counts[Status.ERROR], 'cancelled': counts[Status.CANCELLED],
            'elapsed_s': elapsed, 'bytes': nbytes,
            'flags_per_s': counts[Status.OK] / elapsed if elapsed > 0 else 0.0,
            'latency_ms': {'p50': percentile(lat, 50), 'p90': percentile(lat, 90),
                           'p99': percentile(lat, 99), 'max': lat[-1] if lat else 0.0},
            'cpu_user_s': ru.ru_utime, 'cpu_sys_s': ru.ru_stime,
            'max_rss_kb': ru.ru_maxrss, 'connections': connections,
            'server': args.server_label, 'url': redact_url(args.base_url), 'libcurl': library,
            'timeout_s': args.timeout_s, 'fresh_connect': args.fresh_connect,
            # one event loop (asyncio) or none (threads); savers: the default
            # executor's threads with --save-in-executor, as asyncio sizes it
            'loops': 1, 'save_threads': saver_threads,
            # no libcurl multi handles; the descriptors the fd-limit check counts
            'multis': 1, 'fds_per_transfer': fds_per_transfer,
            # requests (trust_env=False) and aiohttp read no proxy variables
            'proxy_env': None,
            # the protocol measured; streams per connection: not measured
            # here (httpcore does not say which connection a response used)
            'http2': args.http2, 'protocol': protocol, 'streams': None,
        }
        try:
            _append(os.dup(files[args.json]), record_line(rec).encode())
        except OSError as exc:
            sys.stderr.write(f'{prog}: cannot append to {args.json}: '
                             f'{_record_strerror(exc)}\n')
            status = 1
    if args.latencies:
        try:
            _append(os.dup(files[args.latencies]),
                    ''.join(f'{ms:.3f}\n' for ms in latencies_ms).encode())
        except OSError as exc:
            sys.stderr.write(f'{prog}: cannot append to {args.latencies}: '
                             f'{_record_strerror(exc)}\n')
            status = 1
    for fd in files.values():
        os.close(fd)

    if job.cancelled.is_set():
        status = EXIT_INTERRUPTED
    elif counts[Status.ERROR]:
        status = 1
    out.flush()
    sys.stderr.flush()
    # os._exit: threads still blocked in a transfer after an interrupt must
    # not hold the exit up (the C clients abort them); everything is flushed.
    os._exit(status)
