"""soak.py - create -> screenshot -> type -> exec -> destroy cycles of desktop
sandboxes against one deskboxd, and the proof that they leave nothing.

Used by tests/integration/test_soak.py (a short run in `make test`) and
tests/long/test_soak_long.py (500 cycles in `make check-long`). One cycle:

    create {"apps": ["xterm"]}  ->  GET screenshot (PNG)  ->  POST actions
    type  ->  POST exec  ->  DELETE

After the run, against a baseline taken after one warm-up cycle:
- no process in a cgroup of any soaked sandbox, no init left, no cgroup
  directory named after one (every v1 hierarchy and the v2 one);
- deskboxd's mount table and the host's are as before;
- deskboxd holds no more uid-range locks (server/uidrange.c: one OFD lock
  per range on /run/deskbox/uidrange.lock, read from /proc/PID/fdinfo);
- deskboxd's fd count and child processes are back at the baseline;
- nothing new in the state dir, nor anything named after a sandbox in /tmp
  or /dev/shm;
- deskboxd's RSS grew by less than 5 MiB (not checked under ASan, whose
  quarantine keeps freed memory resident).

Figures are printed: cycles/s, p50/p95 per step, RSS and fds before/after.
"""

import os
import sys
import time

from deskbox import (API, CGROUP_ROOT, children, comm, fd_count, percentile,
                     rss_kib, sanitized)

STEPS = ("create", "screenshot", "type", "exec", "destroy")
RSS_GROWTH_KIB = 5 * 1024


def uid_locks(pid):
    """How many uid-range locks deskboxd pid holds: the lock lines in the
    fdinfo of its descriptor(s) on the uid-range lock file."""
    n = 0
    fddir = "/proc/%d/fd" % pid
    for fd in os.listdir(fddir):
        try:
            target = os.readlink(os.path.join(fddir, fd))
        except OSError:
            continue
        if not target.endswith("/uidrange.lock"):
            continue
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                n += sum(1 for line in f if line.startswith("lock:"))
        except OSError:
            pass
    return n


def mount_table(pid):
    """(mount point, fs type, source) of every mount pid sees."""
    out = set()
    try:
        with open("/proc/%d/mountinfo" % pid) as f:
            for line in f:
                left, _, right = line.partition(" - ")
                out.add((left.split()[4], right.split()[0], right.split()[1]))
    except OSError:
        pass
    return out


def files_under(root):
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            found.add(os.path.relpath(os.path.join(dirpath, n), root))
    return found


def cgroup_dirs_named(ids, root=CGROUP_ROOT):
    """Cgroup directories (any hierarchy) whose name is one of ids."""
    found = []
    for dirpath, dirnames, _ in os.walk(root):
        for d in dirnames:
            if d in ids:
                found.append(os.path.join(dirpath, d))
    return found


def pids_in_cgroups_of(ids):
    """Host processes whose cgroup path names one of ids."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/cgroup" % name) as f:
                text = f.read()
        except OSError:
            continue
        for line in text.splitlines():
            if any(part in ids for part in line.split(":", 2)[-1].split("/")):
                found.append(int(name))
                break
    return found


def names_with(ids, dirs=("/tmp", "/dev/shm")):
    out = []
    for d in dirs:
        try:
            names = os.listdir(d)
        except OSError:
            continue
        out += [os.path.join(d, n) for n in names if any(i in n for i in ids)]
    return out


class Snapshot:
    def __init__(self, srv):
        pid = srv.proc.pid
        self.rss = rss_kib(pid)
        self.fds = fd_count(pid)
        self.kids = sorted(comm(p) for p in children(pid))
        self.uid_locks = uid_locks(pid)
        self.mounts = mount_table(pid)
        self.host_mounts = mount_table(os.getpid())
        self.state = files_under(srv.state_dir)


def cycle(srv, times, ids):
    api = srv.api
    t0 = time.monotonic()
    sb = api.create(apps=["xterm"], timeout_s=600)
    sid = sb["id"]
    ids.add(sid)
    t1 = time.monotonic()
    r = api.request("GET", "%s/%s/screenshot" % (API, sid), raw=True)
    if r.status != 200 or r.body[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("screenshot of %s -> %s %r" % (sid, r.status, r.body[:200]))
    t2 = time.monotonic()
    r = api.request("POST", "%s/%s/actions" % (API, sid),
                    {"action": "type", "text": "echo soak\n"})
    if r.status != 200:
        raise AssertionError("type into %s -> %s %r" % (sid, r.status, r.body))
    t3 = time.monotonic()
    out = api.exec(sid, cmd="echo $((6*7)); ls /proc | grep -c '^[0-9]' >/dev/null")
    if out["stdout"] != "42\n" or out["exit_code"] != 0:
        raise AssertionError("exec in %s: %r" % (sid, out))
    t4 = time.monotonic()
    api.delete(sid)
    t5 = time.monotonic()
    for step, a, b in zip(STEPS, (t0, t1, t2, t3, t4), (t1, t2, t3, t4, t5)):
        times[step].append((b - a) * 1000.0)


def run(srv, cycles, label="soak", out=sys.stdout):
    """Run cycles cycles on srv (a started Server), then check for leaks.
    Returns (figures dict, [problems]); prints the figures."""
    ids = set()
    warm = {s: [] for s in STEPS}
    cycle(srv, warm, ids)  # the first cycle fills caches (the agent memfd, ...)
    time.sleep(0.2)
    before = Snapshot(srv)
    times = {s: [] for s in STEPS}
    start = time.monotonic()
    for _ in range(cycles):
        cycle(srv, times, ids)
    took = time.monotonic() - start
    after = Snapshot(srv)
    # Settle: the last destroy answers once init is reaped; give stragglers
    # (a retried cgroup removal) a moment before calling anything a leak.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        after = Snapshot(srv)
        if (after.fds <= before.fds and after.kids == before.kids
                and not pids_in_cgroups_of(ids) and not cgroup_dirs_named(ids)):
            break
        time.sleep(0.1)

    problems = []
    pid = srv.proc.pid
    left = pids_in_cgroups_of(ids)
    if left:
        problems.append("processes left in sandbox cgroups: %s"
                        % [(p, comm(p)) for p in left[:20]])
    dirs = cgroup_dirs_named(ids)
    if dirs:
        problems.append("cgroup dirs left: %s" % dirs[:20])
    # Only mounts that can be ours: the host's table changes under other
    # users of the machine (an automounted tracefs, another test's tmpfs).
    def ours(m):
        return ("deskbox" in m[0] or srv.state_dir in m[0] or "deskbox" in m[2]
                or any(i in m[0] for i in ids))
    new_own = {m for m in after.mounts ^ before.mounts if ours(m)}
    if new_own:
        problems.append("deskboxd's mounts changed: %s" % sorted(new_own)[:10])
    new_host = {m for m in after.host_mounts - before.host_mounts if ours(m)}
    if new_host:
        problems.append("host mounts left: %s" % sorted(new_host)[:10])
    if after.uid_locks != before.uid_locks:
        problems.append("uid ranges held: %d before, %d after"
                        % (before.uid_locks, after.uid_locks))
    if after.fds > before.fds:
        problems.append("deskboxd fds: %d before, %d after: %s"
                        % (before.fds, after.fds, sorted(os.listdir("/proc/%d/fd" % pid))))
    if after.kids != before.kids:
        problems.append("deskboxd's children: %s before, %s after" % (before.kids, after.kids))
    new_files = after.state - before.state
    if new_files:
        problems.append("new in the state dir: %s" % sorted(new_files)[:20])
    tmp = names_with(ids)
    if tmp:
        problems.append("temp files named after sandboxes: %s" % tmp[:20])
    listed = [s["id"] for s in srv.list()]
    if set(listed) & ids:
        problems.append("soaked sandboxes still listed: %s" % sorted(set(listed) & ids))
    asan = sanitized(pid)
    growth = after.rss - before.rss
    if not asan and growth >= RSS_GROWTH_KIB:
        problems.append("deskboxd RSS grew %d KiB (%d -> %d) over %d cycles"
                        % (growth, before.rss, after.rss, cycles))

    if not problems:
        # Proven gone above, in one walk of /proc and the cgroup trees for
        # all of them; the harness's own stop() check walks them once per
        # sandbox (a minute at 500), so it need not see these again.
        with srv._lock:
            for sid in ids:
                srv.sandboxes.pop(sid, None)

    fig = {
        "cycles": cycles, "seconds": took, "cycles_per_s": cycles / took,
        "rss_before_kib": before.rss, "rss_after_kib": after.rss,
        "fds_before": before.fds, "fds_after": after.fds,
        "steps": {s: (percentile(times[s], 50), percentile(times[s], 95)) for s in STEPS},
    }
    lines = ["%s: %d cycles in %.1f s = %.2f cycles/s%s" % (
        label, cycles, took, fig["cycles_per_s"], " (ASan build)" if asan else "")]
    for s in STEPS:
        p50, p95 = fig["steps"][s]
        lines.append("  %-10s p50 %7.1f ms  p95 %7.1f ms" % (s, p50, p95))
    lines.append("  deskboxd RSS %d KiB -> %d KiB (%+d KiB); fds %d -> %d; "
                 "uid locks %d -> %d; children %s"
                 % (before.rss, after.rss, growth, before.fds, after.fds,
                    before.uid_locks, after.uid_locks, after.kids))
    out.write("\n" + "\n".join(lines) + "\n")
    out.flush()
    return fig, problems
