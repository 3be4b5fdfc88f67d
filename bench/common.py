"""What every benchmark shares, gathered from the modules that hold it so that a benchmark needs
one import line (``from bench.common import Server, Device, verdict``):

- bench/server_proc.py: the server in a subprocess (``Server``), ``cpu_meter``, /proc readings;
- bench/device.py: signed-in devices speaking the sync protocol over HTTP (MessagePack);
- bench/report.py: percentiles, medians and the report lines (``verdict`` feeds run_all's summary);
- bench/commit_probe.py: how long this disk takes to make a small SQLite commit durable;
- bench/cpu_probe.py: how fast this machine's CPU runs a fixed piece of Python right now.

Message text is bench/text.py. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

from bench.commit_probe import commit_probe
from bench.cpu_probe import cpu_probe
from bench.device import PASSWORD, Device, Failed, RawHttp, workspace
from bench.report import RESULTS, fmt, header, info, median, percentile, run_child, verdict
from bench.server_proc import (
    CLK_TCK,
    ROOT,
    Server,
    cpu_meter,
    cpu_seconds,
    free_port,
    proc_status,
    raise_fd_limit,
)

__all__ = [
    "CLK_TCK",
    "PASSWORD",
    "RESULTS",
    "ROOT",
    "Device",
    "Failed",
    "RawHttp",
    "Server",
    "commit_probe",
    "cpu_meter",
    "cpu_probe",
    "cpu_seconds",
    "fmt",
    "free_port",
    "header",
    "info",
    "median",
    "percentile",
    "proc_status",
    "raise_fd_limit",
    "run_child",
    "verdict",
    "workspace",
]
