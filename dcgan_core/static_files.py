"""Files the server writes for browsers to poll, in the app's static folder.

Streamlit serves ``static/`` at ``/app/static/`` (server.enableStaticServing). A browser that
polls a small file there costs the server one static request and no script run, which is
how the live training view and the "follow the teacher" signal stay cheap with a class.
Each server process writes under its own folder, ``<pid>-<random>``, so several servers
started from one checkout (tests, a teacher's second terminal) never share a file.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = ROOT / "static"
URL_PREFIX = "app/static"
STATE_BLOCK = 16 * 1024  # state files are padded to whole blocks: see padded()


def server_folder_name() -> str:
    return f"{os.getpid()}-{os.urandom(4).hex()}"


def padded(data: bytes, block: int = STATE_BLOCK) -> bytes:
    """JSON padded with spaces to a whole number of blocks. The static file server takes a file's
    size before it opens it; a state replaced in between has, nearly always, the same size, so the
    reply is still whole (and gzip makes the padding cost nothing on the wire)."""
    return data + b" " * (-len(data) % block)


def write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


PLOTLY_JS = "plotly.min.js"


def plotly_js_source() -> Path:
    import plotly  # lazily: only a page that draws in the browser asks where plotly.js is

    return Path(plotly.__file__).parent / "package_data" / PLOTLY_JS


def ensure_plotly_js(folder: Path) -> Path:
    """A copy of the installed plotly.js in ``folder`` (the browser's own charts load it from there)."""
    target, source = folder / PLOTLY_JS, plotly_js_source()
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        write_atomic(target, source.read_bytes())
    return target


def prepare_server_folder(root: Path, folder: Path) -> None:
    """``folder``, this server's own under ``root``, made; the folders of servers that have ended
    removed; plotly.js copied into the static folder above ``root``, one copy for every chart that
    browsers draw themselves (the live view, a follower's charts, the instant lesson charts)."""
    root.mkdir(parents=True, exist_ok=True)
    remove_dead_servers(root)
    folder.mkdir(parents=True, exist_ok=True)
    ensure_plotly_js(root.parent)
    (root / PLOTLY_JS).unlink(missing_ok=True)  # where earlier versions kept a copy of their own


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_servers(folder: Path) -> None:
    """Folders of server processes that have ended (each folder is named <pid>-<random>)."""
    for child in folder.glob("*-*"):
        try:
            pid = int(child.name.split("-", 1)[0])
        except ValueError:
            continue
        if child.is_dir() and pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(child, ignore_errors=True)
