"""A Streamlit viewer without a browser: speaks the app's websocket protocol the
way the frontend does, so one small process can stand in for thirty laptops.

Why not thirty Chromium tabs: on the 2-core machine that serves the class they
would measure Chromium (each tab redraws Plotly charts every second), while in a
classroom the browsers run on the students' own laptops. What the server does is
the same either way: a full script run when a page opens, then, for each
``st.fragment(run_every=...)``, a rerun request every interval; it answers with
deltas and a "script finished" message; each image in a delta is fetched over
HTTP. That is what this client does, and it times each live update from its
request to the server's "finished".

Every request is accounted for. A request the server cut short for a newer one
("finished early for rerun") is *replaced*: it is timed until the answer that
replaced it, as a student waits for that one. A request still waiting when the
viewer stops is *unanswered*; ``counts(since)`` says how many were sent, answered,
replaced and unanswered, so that a latency percentile never hides the dropped.

    viewer = ProtocolViewer("http://127.0.0.1:8501", page="train", query="lang=en")
    end = time.monotonic() + 60
    await viewer.run(until=lambda: end + 5, send_until=lambda: end)   # 5 s to drain
    viewer.latencies  # [(sent_at, seconds), ...] for fragment reruns, replaced ones included
    viewer.counts(since=start)
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import urllib.request
from collections import deque

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

LIVE_STATE = re.compile(r'data-live-state="([^"]+)"')
FINISHED = ForwardMsg.ScriptFinishedStatus
FRAGMENT_DONE = FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


class ProtocolViewer:
    def __init__(self, url: str, page: str, query: str = "", fetch_media: bool = True, seed: int = 0):
        self.url = url.rstrip("/")
        self.page = page
        self.query = query
        self.fetch_media = fetch_media
        self.page_hash = ""
        self.latencies: list[tuple[float, float]] = []  # (sent at, seconds) per answered or replaced request
        self.replaced: list[float] = []  # send times of requests answered by a newer run
        self.sent: list[float] = []  # send times of every fragment rerun request
        self.finished_at: list[float] = []  # when each fragment rerun's answer arrived
        self.full_runs = 0
        self.early_ends = 0  # reruns the server cut short for a newer one
        self.media_fetched = 0
        self.errors: list[str] = []
        self._pending: deque[float] = deque()  # send times of fragment reruns not yet answered
        self._timers: dict[str, asyncio.Task] = {}
        self._interrupted = 0  # runs cut short since the last answer
        self._send_until = None
        self._random = random.Random(seed)
        self._media_seen: set[str] = set()
        self.live_polls: list[tuple[float, float]] = []  # (sent at, seconds) per poll of a live view's files
        self.live_poll_errors = 0
        self.live_poll_failed_at: list[float] = []  # send times of polls that failed
        self._live_task: asyncio.Task | None = None

    def _rerun_message(self, fragment_id: str = "") -> bytes:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = self.page_hash
        state.page_name = "" if self.page_hash else self.page
        if fragment_id:
            state.fragment_id = fragment_id
            state.is_auto_rerun = True
        return msg.SerializeToString()

    async def _auto_rerun(self, ws, fragment_id: str, interval: float) -> None:
        """The frontend's timer: a rerun request every interval, whether or not the last one was answered.
        Its phase is random: thirty students do not open the page in the same millisecond."""
        await asyncio.sleep(self._random.uniform(0, interval))
        while True:
            now = time.monotonic()
            if self._send_until is None or now < self._send_until():
                self._pending.append(now)
                self.sent.append(now)
                await ws.send(self._rerun_message(fragment_id))
            await asyncio.sleep(interval)

    async def _fetch(self, path: str) -> None:
        try:
            await asyncio.to_thread(lambda: urllib.request.urlopen(self.url + path, timeout=30).read())
            self.media_fetched += 1
        except OSError as err:
            self.errors.append(f"media {path}: {err}")

    def _live_state_in(self, msg: ForwardMsg) -> str | None:
        """The state file a live view polls, if this delta draws one (an iframe with data-live-state)."""
        if not msg.HasField("delta") or not msg.delta.HasField("new_element"):
            return None
        element = msg.delta.new_element
        if element.WhichOneof("type") != "iframe":
            return None
        found = LIVE_STATE.search(element.iframe.srcdoc)
        return found.group(1) if found else None

    def _media_in(self, msg: ForwardMsg) -> list[str]:
        if not msg.HasField("delta") or not msg.delta.HasField("new_element"):
            return []
        element = msg.delta.new_element
        if element.WhichOneof("type") != "imgs":
            return []
        return [img.url for img in element.imgs.imgs if img.url.startswith("/media/")]

    async def _poll_live(self, state_path: str, interval: float = 1.0) -> None:
        """What dcgan_core/viz/live_panel.py's script does in a browser: fetch the state file,
        then the sample grid it names if it is new; the next request only after this one is answered."""
        from benchmarks.live_http import KeepAliveClient

        client = KeepAliveClient(self.url)
        base = state_path.rsplit("/", 1)[0]
        shown_grid = None
        await asyncio.sleep(self._random.uniform(0, interval))
        try:
            while True:
                sent = time.monotonic()
                try:
                    status, body = await client.get(f"{state_path}?t={time.time()}")
                    if status != 200:
                        raise OSError(f"HTTP {status}")
                    grid = json.loads(body).get("grid")
                    if grid and grid != shown_grid:
                        status, _ = await client.get(f"{base}/{grid}")
                        if status != 200:
                            raise OSError(f"HTTP {status} for {grid}")
                        shown_grid = grid
                    self.live_polls.append((sent, time.monotonic() - sent))
                except (OSError, ValueError, asyncio.IncompleteReadError) as err:
                    self.live_poll_errors += 1
                    self.live_poll_failed_at.append(sent)
                    if self.live_poll_errors <= 3:
                        self.errors.append(f"live view {state_path}: {err}")
                    await client.close()
                await asyncio.sleep(max(0.05, interval - (time.monotonic() - sent)))
        finally:
            await client.close()

    async def run(self, until, send_until=None) -> None:
        """Watch until ``until()`` (a clock reading, asked again and again: it may move). With
        ``send_until``, the timers stop asking at that reading and the answers still owed may
        arrive until ``until()``."""
        self._send_until = send_until
        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        try:
            async with connect(ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=120) as ws:
                await ws.send(self._rerun_message())
                while time.monotonic() < until():
                    try:
                        raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
                    except asyncio.TimeoutError:
                        continue
                    await self._handle(ws, ForwardMsg.FromString(raw))
        except Exception as err:  # noqa: BLE001 — a viewer that fails is reported, not fatal
            self.errors.append(f"{type(err).__name__}: {err}")
        finally:
            for task in [*self._timers.values(), *([self._live_task] if self._live_task else [])]:
                task.cancel()

    async def _handle(self, ws, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.page_hash = msg.new_session.page_script_hash or self.page_hash
        elif kind == "auto_rerun":
            fragment = msg.auto_rerun.fragment_id
            if fragment not in self._timers:  # a full rerun registers the same fragments again
                self._timers[fragment] = asyncio.create_task(self._auto_rerun(ws, fragment, msg.auto_rerun.interval))
        elif kind == "stop_auto_rerun":  # as the frontend does: a fragment the page no longer draws stops asking
            for fragment in msg.stop_auto_rerun.fragment_ids:
                task = self._timers.pop(fragment, None)
                if task is not None:
                    task.cancel()
        elif kind == "script_finished":
            self._finished(msg.script_finished, time.monotonic())
        elif self._live_task is None and (state := self._live_state_in(msg)):
            self._live_task = asyncio.create_task(self._poll_live(state))
        elif self.fetch_media:
            for path in self._media_in(msg):
                if path not in self._media_seen:
                    self._media_seen.add(path)
                    asyncio.create_task(self._fetch(path))

    def _finished(self, status, now: float) -> None:
        """Match answers to requests, oldest first. A fragment run cut short ends "early for
        rerun" and is answered by the run that replaced it: a newer fragment run (the request
        cut short is *replaced*, timed until this answer) or a full run (the page called
        st.rerun(); that run answers it)."""
        if status == FINISHED.FINISHED_EARLY_FOR_RERUN:
            self.early_ends += 1
            self._interrupted += 1
            return
        if status == FRAGMENT_DONE:
            while self._interrupted and len(self._pending) > 1:
                sent = self._pending.popleft()
                self.replaced.append(sent)
                self.latencies.append((sent, now - sent))
                self._interrupted -= 1
        self._interrupted = 0
        if status != FRAGMENT_DONE:
            self.full_runs += 1
        if self._pending:
            sent = self._pending.popleft()
            self.latencies.append((sent, now - sent))
            self.finished_at.append(now)

    def counts(self, since: float = float("-inf")) -> dict:
        """Requests sent at or after ``since``: sent = answered + replaced + unanswered."""
        sent = sum(t >= since for t in self.sent)
        replaced = sum(t >= since for t in self.replaced)
        timed = sum(t >= since for t, _ in self.latencies)
        unanswered = sum(t >= since for t in self._pending)
        return {"sent": sent, "answered": timed - replaced, "replaced": replaced, "unanswered": unanswered}


async def watch(viewers: list[ProtocolViewer], until, send_until=None) -> list[ProtocolViewer]:
    """All ``viewers`` at once, in this event loop, until ``until()`` (asking until ``send_until()``)."""
    await asyncio.gather(*(viewer.run(until, send_until) for viewer in viewers))
    return viewers
