"""The platform's resource history (D11): a Prometheus-compatible query API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from opscheck.target.base import Percent, Section, http_url

NODE_EXPORTER_QUERIES = {
    "cpu": '100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle",instance="{instance}"}[5m])))',
    "memory": '100 * (1 - node_memory_MemAvailable_bytes{instance="{instance}"}'
    ' / node_memory_MemTotal_bytes{instance="{instance}"})',
    "disk": '100 * max(1 - node_filesystem_avail_bytes{instance="{instance}",fstype!~"tmpfs|overlay"}'
    ' / node_filesystem_size_bytes{instance="{instance}",fstype!~"tmpfs|overlay"})',
    "network": '8 / 1e6 * sum(rate(node_network_receive_bytes_total{instance="{instance}",device!="lo"}[5m])'
    ' + rate(node_network_transmit_bytes_total{instance="{instance}",device!="lo"}[5m]))',
}


class Metrics(Section):
    """The platform's resource history (D11): a Prometheus-compatible query API and one query per resource.

    Each query returns one series for one host: `{instance}` is replaced by the host's metrics_instance.
    Units: cpu, memory and disk in percent used, network in Mbit/s. The defaults read node_exporter.
    """

    url: str
    step_s: Annotated[int, Field(ge=5, le=3600)] = 60
    # Below this share of the day's expected samples the history cannot tell, and D11 says so.
    min_coverage_percent: Percent = 90.0
    queries: dict[Literal["cpu", "memory", "disk", "network"], str] = NODE_EXPORTER_QUERIES

    _url = field_validator("url")(lambda cls, value: http_url(value))
