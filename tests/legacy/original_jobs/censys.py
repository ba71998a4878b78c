"""Hosts and names, written as the original Bots Scheduler's job modules were."""
from botscheduler import *
from pybots import CensysBot


class CensysHostsCheckJob(JobBase):
    info = {
        'job_class_name': "Censys hosts (original style)",
        'arguments': [{'type': 'string', 'description': 'API id'},
                      {'type': 'string', 'description': 'API secret'},
                      {'type': 'file', 'description': 'Addresses'}],
    }

    @report
    def run(self, api_id, api_secret, ips_path, **kwargs):
        with CensysBot(api_id, api_secret) as bot:
            self._data = bot.hosts_from_file(ips_path)
        hosts = OrderedDict()
        for host in sorted(self._data, key=ip2int):
            hosts[host] = self._data[host]
        return [Section("Hosts found on Censys"), Data(hosts)]


class CensysHostsEnumeration(JobBase):
    info = {
        'job_class_name': "Censys names (original style)",
        'arguments': [{'type': 'string', 'description': 'API id'},
                      {'type': 'string', 'description': 'API secret'},
                      {'type': 'file', 'description': 'Domains'}],
    }

    @report
    def run(self, api_id, api_secret, domains_path, **kwargs):
        with CensysBot(api_id, api_secret) as bot:
            self._data = bot.hosts_from_domains_file(domains_path)
        hosts = OrderedDict()
        for host, data in sorted(self._data.items()):
            hosts[host] = data
        return [Section("Hosts found from certificates"), Data(hosts)]
