"""The demo systems: three fictitious systems that hold personal data, run as real processes.

- `crm` (the `http` kind): a REST server with contacts, accounts, consents,
  tickets and login events, answering DSR tasks synchronously on `POST /dsr`;
- `sms` (the `webhook` kind): an SMS platform that accepts a task notice at once
  and calls the engine back a few seconds later with its signed answer;
- `billing` (the `sql` kind): a SQLite file of customers, trips, payment
  methods, invoices and payments.

All three are filled from `people`, one deterministic set of fictitious French
people: reserved email domains, phone numbers in a range ARCEP keeps for
fiction, invented streets. `people.SHOWCASE` names the few the README uses.
"""
