#!/usr/bin/python3
"""flags2_asyncio.py -- the book's flags2_asyncio, for flagbench.

asyncio + aiohttp: one ClientSession for the whole run (its connector has no
limit of its own, so the semaphore is the only cap), one task per request,
asyncio.Semaphore(concur_req) held around each GET exactly as the book holds
it, results collected with asyncio.as_completed. Files are saved inline on
the event loop (flags2), or with --save-in-executor through
loop.run_in_executor (the book's flags3). The command line, output, saving
and --json record are flags2_common's, the same as the C clients'.

--http2: httpx's AsyncClient(http2=True) instead of aiohttp (which has no
HTTP/2), under the same asyncio.Semaphore(concur_req): h2 over TLS through
ALPN, h2c with prior knowledge for http:// (http1=False). httpcore keeps one
connection per origin while its streams last and multiplexes on it.
"""

import asyncio
import functools
import os
import signal
import ssl
import sys
import time
import types

import aiohttp
from aiohttp.client_proto import ResponseHandler

try:
    import httpx  # only for --http2 (python3-httpx, python3-h2)
except ImportError:  # said when --http2 is asked for
    httpx = None

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import flags2_common as common  # noqa: E402

DEFAULT_CONCUR_REQ = 5   # the book's
MAX_CONCUR_REQ = 10_000  # as flags_asyncloop
MAX_REDIRS = 5           # as common/xfer.c


async def _on_connection_create_start(session, trace_config_ctx, params):
    # From here until create_end: the TCP connection, then (https) the TLS
    # handshake; aiohttp does both in one call and cannot tell which failed.
    trace_config_ctx.trace_request_ctx.connecting = True


async def _on_connection_create_end(session, trace_config_ctx, params):
    # A new TCP connection for this request (CURLINFO_NUM_CONNECTS's count).
    trace_config_ctx.trace_request_ctx.connects += 1
    trace_config_ctx.trace_request_ctx.connecting = False


class _ClosingWatcher(ResponseHandler):
    """aiohttp's connection protocol, noting the server's TLS close_notify.
    asyncio calls eof_received over TLS both for a close_notify and for a TCP
    close without one, and aiohttp takes a close-delimited body as complete
    either way (issue 19, case 3). The TLS object tells them apart: after a
    close_notify it reads as closed (b'', or SSLZeroReturnError once ours was
    sent too); without one it wants more data (SSLWantReadError)."""
    close_notify = False

    def eof_received(self):
        tls = self.transport.get_extra_info('ssl_object') if self.transport else None
        if tls is not None:
            try:
                self.close_notify = tls.read(1) == b''
            except ssl.SSLZeroReturnError:
                self.close_notify = True
            except ssl.SSLError:
                pass
        return super().eof_received()


async def get_one(session, job, index, semaphore):
    url = job.url(index)
    ctx = types.SimpleNamespace(connects=0, connecting=False)
    try:
        async with semaphore:
            t0 = time.perf_counter()
            async with session.get(url, max_redirects=MAX_REDIRS,
                                   trace_request_ctx=ctx) as resp:
                proto = resp.connection.protocol if resp.connection else None
                body = await resp.read()
                status = resp.status
                cut = (status == 200 and resp.url.scheme == 'https'
                       and common.close_delimited(resp.headers)
                       and not getattr(proto, 'close_notify', False))
            latency = time.perf_counter() - t0
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        # A refused connection is recognised before this counts: on
        # loopback, a failure while connecting is the TLS handshake's.
        return common.Result(index, common.Status.ERROR, 0.0, 0, ctx.connects,
                             common.describe_error(exc, job, url, handshake=ctx.connecting))
    if cut:
        return common.Result(index, common.Status.ERROR, latency, len(body), ctx.connects,
                             common.TLS_TRUNCATED)
    if job.save_in_executor:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, job.finish, index, status, body,
                                          latency, ctx.connects)
    return job.finish(index, status, body, latency, ctx.connects)


async def get_one_h2(client, job, index, semaphore):
    """get_one over httpx (--http2). httpx's timeout bounds each operation,
    not the transfer: asyncio.wait_for bounds the whole, as aiohttp's
    ClientTimeout(total=...) and CURLOPT_TIMEOUT_MS do."""
    url = job.url(index)
    ctx = types.SimpleNamespace(connects=0)

    async def trace(event, info):
        # httpcore's trace: a new TCP connection for this request
        # (CURLINFO_NUM_CONNECTS's count).
        if event == 'connection.connect_tcp.complete':
            ctx.connects += 1

    try:
        async with semaphore:
            t0 = time.perf_counter()
            resp = await asyncio.wait_for(client.get(url, extensions={'trace': trace}),
                                          job.timeout_s)
            latency = time.perf_counter() - t0
    except (httpx.HTTPError, httpx.StreamError, asyncio.TimeoutError, OSError) as exc:
        return common.Result(index, common.Status.ERROR, 0.0, 0, ctx.connects,
                             common.describe_error(exc, job, url))
    proto = 'h2' if resp.http_version == 'HTTP/2' else 'http/1.1'
    if job.save_in_executor:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, job.finish, index, resp.status_code,
                                          resp.content, latency, ctx.connects, proto)
    return job.finish(index, resp.status_code, resp.content, latency, ctx.connects, proto)


def h2_client(job):
    """The httpx client of a --http2 run: HTTP/2 only over http:// (h2c with
    prior knowledge), h2 preferred over https://; verified as aiohttp is;
    redirects followed up to MAX_REDIRS; no pool limit (the semaphore is the
    only cap); no proxy variables (as aiohttp here)."""
    ssl_ctx = ssl.create_default_context(cafile=job.cacert) if job.cacert else True
    h2c = job.base_url.lower().startswith('http://')
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None,
                          keepalive_expiry=None if not job.fresh_connect else 0)
    return httpx.AsyncClient(http2=True, http1=not h2c, verify=ssl_ctx, limits=limits,
                             follow_redirects=True, max_redirects=MAX_REDIRS,
                             timeout=job.timeout_s, trust_env=False,
                             headers={'User-Agent': 'flagbench/0.1'})


async def supervisor(job, done):
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()

    def on_signal():
        if job.cancelled.is_set():
            os._exit(common.EXIT_INTERRUPTED)  # second signal: at once
        job.interrupt()
        me.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)

    if job.http2:
        await run_h2(job, done)
        return
    trace = aiohttp.TraceConfig()
    trace.on_connection_create_start.append(_on_connection_create_start)
    trace.on_connection_create_end.append(_on_connection_create_end)
    # https: verified always; --cacert FILE is the only CAs, as CURLOPT_CAINFO.
    # Without it, None: aiohttp 3.8's verified default context (ssl=True
    # would mean an unverified one there).
    ssl_ctx = ssl.create_default_context(cafile=job.cacert) if job.cacert else None
    connector = aiohttp.TCPConnector(limit=0, force_close=job.fresh_connect, ssl=ssl_ctx)
    # aiohttp 3.8 makes every connection's protocol with this factory.
    connector._factory = functools.partial(_ClosingWatcher, loop=asyncio.get_running_loop())
    timeout = aiohttp.ClientTimeout(total=job.timeout_s)  # the whole transfer
    session = aiohttp.ClientSession(connector=connector, timeout=timeout,
                                    trace_configs=[trace],
                                    headers={'User-Agent': 'flagbench/0.1'})
    await drive(job, done, session, get_one)


async def run_h2(job, done):
    """supervisor's body over httpx."""
    await drive(job, done, h2_client(job), get_one_h2)


async def drive(job, done, client, get):
    """The book's supervisor loop: a task per request under the semaphore,
    results as they complete. Interrupted (the first signal cancels this
    task), it stops every transfer and reports those that had finished; main
    counts the rest cancelled."""
    tasks = []
    try:
        async with client:
            semaphore = asyncio.Semaphore(job.concur_req)
            tasks = [asyncio.create_task(get(client, job, i, semaphore))
                     for i in range(job.requests)]
            for coro in asyncio.as_completed(tasks):
                done(await coro)
    except asyncio.CancelledError:
        if not job.cancelled.is_set():
            raise
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is None:
                res = task.result()
                if res.index not in job.results:
                    done(res)


def download_many(job, done):
    asyncio.run(supervisor(job, done))


if __name__ == '__main__':
    common.main(download_many, backend='py-asyncio',
                default_concur_req=DEFAULT_CONCUR_REQ, max_concur_req=MAX_CONCUR_REQ,
                fds_per_transfer=1,  # the socket; files are saved one at a time
                library=(f'httpx {httpx.__version__}' if httpx and '--http2' in sys.argv
                         else f'aiohttp {aiohttp.__version__}'),
                no_http2=(None if httpx else
                          'httpx is missing (install python3-httpx and python3-h2)'),
                extra_options=[('--save-in-executor',
                                "save files via loop.run_in_executor (the book's flags3)")])
