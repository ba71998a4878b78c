"""Example job: which TCP ports accept a connection on the hosts of a file.

Copy this file into a jobs folder (``bots-scheduler run -j jobs``); the job class string is
then ``ports_check.PortsCheck``.  docs/writing-jobs.md explains each part.
"""
import socket

from bots_scheduler import *


def parse_ports(text):
    """"22,80,443" -> [22, 80, 443]; a bad value ends the run with a clear message."""
    ports = []
    for item in str(text).split(","):
        item = item.strip()
        if not item.isdigit() or not 1 <= int(item) <= 65535:
            raise JobFailed(f"{item!r} is not a TCP port number (1-65535)")
        ports.append(int(item))
    return sorted(set(ports))


def read_hosts(path):
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle
                if line.strip() and not line.lstrip().startswith("#")]


class PortsCheck(JobBase):
    info = {
        "job_class_name": "Example — TCP ports check",
        "notes": "Connects to the given TCP ports of each host of a file and reports "
                 "the ports that accept a connection.",
        "arguments": [
            {"type": "string", "description": "Ports, comma separated (e.g. 22,80,443)"},
            {"type": "file", "description": "File of host names or IP addresses, one a line"},
            {"type": "integer", "description": "Seconds to wait for each port (optional)"},
        ],
        "example_arguments": '["22,80,443", "hosts.txt", 2]',
        "report_title": "Open TCP ports",
    }

    @report
    def run(self, ports, hosts_path, timeout=2, *args, **kwargs):
        ports = parse_ports(ports)
        hosts = read_hosts(hosts_path)
        rows, found = [], {}
        for host in hosts:
            for port in ports:
                if self.should_stop():          # the server is shutting down
                    raise JobFailed("stopped before every port was checked")
                state = self.probe(host, port, float(timeout))
                rows.append([host, port, state])
                if state == "open":
                    found.setdefault(host, []).append(port)
        self.data = found                        # non-empty: something to notify
        return (
            Section("Summary",
                    Text(f"{len(hosts)} hosts, {len(ports)} ports each: "
                         f"{sum(len(p) for p in found.values())} open.")),
            Section("Ports", Table(rows, headers=["host", "port", "state"])),
            Section("Data", Data(found)),
        )

    @staticmethod
    def probe(host, port, timeout):
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return "open"
        except socket.timeout:
            return "filtered"
        except OSError:
            return "closed"
