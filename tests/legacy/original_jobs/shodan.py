"""Hosts sorted by address, written as the original Bots Scheduler's job modules were."""
from botscheduler import *
from pybots import ShodanBot


class ShodanHostsCheckJob(JobBase):
    info = {
        'job_class_name': "Shodan hosts (original style)",
        'arguments': [{'type': 'string', 'description': 'API key'},
                      {'type': 'file', 'description': 'Addresses'}],
    }

    @report
    def run(self, api_key, ips_path, **kwargs):
        with ShodanBot(api_key) as bot:
            self._data = bot.hosts_from_file(ips_path)
        hosts = OrderedDict()
        for host, data in sorted(self._data.items(), key=lambda item: ip2int(item[0])):
            hosts[host] = data
        return [Section("Hosts found on Shodan"), Data(hosts)]
