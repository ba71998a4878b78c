"""Breaches and pwned passwords, written as the original Bots Scheduler's job modules were."""
from botscheduler import *
from pybots import HaveIBeenPwnedBot, PwnedPasswordsBot


class HaveIBeenPwnedJob(JobBase):
    info = {
        'job_class_name': "HIBP - breaches (original style)",
        'notes': "Breaches of the listed accounts.",
        'arguments': [{'type': 'file', 'description': 'Accounts'}],
    }

    @report
    def run(self, accounts_path, **kwargs):
        with HaveIBeenPwnedBot() as bot:
            self._data = bot.breaches_from_file(accounts_path)
        items = [Section("Breaches found")]
        for account, breaches in self._data.items():
            items.append(Subsection(Code(account, size=20)))
            for breach in breaches:
                items.append(Title(breach.pop('Title'), "h4"))
                details = OrderedDict()
                details['Description'] = breach.pop('Description')
                details['Accounts'] = breach.pop('PwnCount')
                details['Data'] = ", ".join(breach.pop('DataClasses'))
                logo = Image(breach.pop('LogoPath'), width="80%")
                items.append(Table([[Data(details, size=12)]], row_headers=[logo],
                                   column_headers=None))
        return items


class PwnedPasswordsJob(JobBase):
    info = {
        'job_class_name': "Pwned passwords (original style)",
        'arguments': [{'type': 'file', 'description': 'Passwords'}],
    }

    @report
    def run(self, passwords_path, **kwargs):
        with PwnedPasswordsBot() as bot:
            self._data = bot.check_from_file(passwords_path)
        return [Section("Pwned passwords found"), List(*self._data)]
