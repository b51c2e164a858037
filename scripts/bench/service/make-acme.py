#!/usr/bin/env python3
"""Write ROWS transactions as JSON Lines for the service load tests.

--format acme writes the earlier ACME system's objects; --format canonical
writes txguard's canonical objects with the PaySim-style fields the
embedded paysim model reads (category, counterparty, balances). Both are
read by `txguard replay`, `txguard score` and POST /v1/transactions.

- account_number is one of ACCOUNTS ids (ACCOUNT_BASE, ACCOUNT_BASE + 1, ...),
  drawn uniformly, so each account has about ROWS / ACCOUNTS transactions.
- state is the account's home state, except that with probability
  STATE_CHANGE a transaction moves the account to another Brazilian state,
  which becomes its state from then on (a location change for the
  velocity features).
- date starts at --start and grows by SPAN / ROWS per row, so the file is
  in time order.
- canonical only: category is PAYMENT (80 %), TRANSFER or CASH_OUT, the
  counterparty one of 5,000 merchants, and the balance before is the
  account's running balance (starting between 10,000 and 100,000), less
  the amount after; merchants' balances are 0, as in PaySim.
- the id is "<ID_PREFIX>-<row number>"; use a new prefix for each
  run against the same Redis, or the service answers from the stored
  decisions (duplicates) instead of deciding again.

The same arguments and --seed give the same bytes.
"""

import argparse
import datetime
import random
import sys

STATES = ["AC", "AL", "AM", "AP", "BA", "CE", "DF", "ES", "GO", "MA", "MG", "MS", "MT", "PA",
          "PB", "PE", "PI", "PR", "RJ", "RN", "RO", "RR", "RS", "SC", "SE", "SP", "TO"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True, help="transactions to write")
    parser.add_argument("--accounts", type=int, default=1000, help="distinct account numbers")
    parser.add_argument("--account-base", type=int, default=40_000_000,
                        help="first account number")
    parser.add_argument("--state-change", type=float, default=0.10,
                        help="probability that a transaction changes the account's state")
    parser.add_argument("--id-prefix", required=True, help="transaction id prefix, unique per run")
    parser.add_argument("--start", default="2024-03-01T00:00:00",
                        help="date of the first transaction (UTC, ISO 8601)")
    parser.add_argument("--span-days", type=float, default=30.0,
                        help="days between the first and the last transaction")
    parser.add_argument("--format", choices=["acme", "canonical"], default="acme")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", default="-", help="output file, - for stdout")
    args = parser.parse_args()
    if args.rows <= 0 or args.accounts <= 0:
        parser.error("--rows and --accounts must be positive")
    if not 0.0 <= args.state_change <= 1.0:
        parser.error("--state-change must be between 0 and 1")
    return args


def main():
    args = parse_args()
    rng = random.Random(args.seed)
    start = datetime.datetime.fromisoformat(args.start)
    step_us = int(args.span_days * 86400e6 / args.rows)
    home = [rng.choice(STATES) for _ in range(args.accounts)]
    balance = [round(rng.uniform(10_000, 100_000), 2) for _ in range(args.accounts)]

    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="ascii")
    lines = []
    for row in range(args.rows):
        account = rng.randrange(args.accounts)
        if rng.random() < args.state_change:
            home[account] = rng.choice([s for s in STATES if s != home[account]])
        # Amounts are log-uniform between 1 and 20,000, rounded to cents.
        amount = round(10 ** rng.uniform(0.0, 4.3), 2)
        when = start + datetime.timedelta(microseconds=row * step_us)
        if args.format == "acme":
            lines.append(
                '{"transaction_id":"%s-%d","account_number":"%d","value":%.2f,"state":"%s",'
                '"date":"%s"}\n' % (args.id_prefix, row, args.account_base + account, amount,
                                    home[account], when.strftime("%Y-%m-%d %H:%M:%S.%f")))
        else:
            amount = min(amount, balance[account])
            category = rng.choices(["PAYMENT", "TRANSFER", "CASH_OUT"], [8, 1, 1])[0]
            before = balance[account]
            balance[account] = round(before - amount, 2)
            if balance[account] < 1000:
                balance[account] += 50_000  # a salary, so accounts never run dry
            lines.append(
                '{"id":"%s-%d","account":"C%d","timestamp":"%s","amount":%.2f,"location":"%s",'
                '"category":"%s","counterparty":"M%d","balance_before":%.2f,'
                '"balance_after":%.2f,"counterparty_balance_before":0,"counterparty_balance_after":0}\n'
                % (args.id_prefix, row, args.account_base + account,
                   when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), amount, home[account], category,
                   rng.randrange(5000), before, before - amount))
        if len(lines) == 10000:
            out.writelines(lines)
            lines.clear()
    out.writelines(lines)
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
