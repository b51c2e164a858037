#!/usr/bin/env python3
"""Generate a PaySim-format CSV of ROWS transactions over ACCOUNTS accounts.

The output is derived synthetic data for load tests, not a PaySim
simulation. Each row copies type, amount, the four balances, nameDest and
isFraud from a row of data/paysim/paysim_sample.csv drawn at random (with
replacement), and gets a new nameOrig and step:

- nameOrig is one of ACCOUNTS ids (C1000000000, C1000000001, ...). Every
  id is used at least once, the other ROWS - ACCOUNTS rows draw an id
  uniformly, and the order is shuffled. An account therefore has about
  ROWS / ACCOUNTS transactions, spread over the whole file.
- step grows from 1 to STEPS with the row number (never decreasing), so
  the file is in time order, as `txguard score` expects. The default of
  743 steps is the length of the full PaySim run (about 30 days).

Because the originator of each row is reassigned, the velocity features
(history, windows, amount statistics) of the output do not follow the
PaySim simulator's behaviour, and isFraud does not match them. Use the
files for throughput and memory measurements, not for model quality.

The same arguments and --seed give the same bytes on the same Python
version.
"""

import argparse
import csv
import pathlib
import random
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_SAMPLE = REPO / "data" / "paysim" / "paysim_sample.csv"
HEADER = [
    "step", "type", "amount", "nameOrig", "oldbalanceOrg", "newbalanceOrig",
    "nameDest", "oldbalanceDest", "newbalanceDest", "isFraud", "isFlaggedFraud",
]
# Columns copied from the sampled row, in output order after nameOrig.
COPIED_AFTER_ACCOUNT = HEADER[4:10]
FIRST_ACCOUNT_ID = 1_000_000_000
WRITE_BATCH_ROWS = 65_536


def load_sample(path):
    """Return each sample row as two CSV fragments: "type,amount" and the columns after nameOrig."""
    with open(path, newline="", encoding="utf-8") as sample_file:
        reader = csv.DictReader(sample_file)
        missing = [name for name in HEADER if name not in (reader.fieldnames or [])]
        if missing:
            sys.exit(f"make-paysim.py: {path} lacks the PaySim column(s) {', '.join(missing)}")
        rows = []
        for row in reader:
            head = f"{row['type']},{row['amount']}"
            tail = ",".join(row[name] for name in COPIED_AFTER_ACCOUNT)
            rows.append((head, tail))
    if not rows:
        sys.exit(f"make-paysim.py: {path} has no data rows")
    return rows


def account_sequence(rows, accounts, rng):
    """Return the account index of every row: each account once, the rest uniform."""
    sequence = list(range(accounts))
    sequence.extend(rng.randrange(accounts) for _ in range(rows - accounts))
    rng.shuffle(sequence)
    return sequence


def write_rows(out, sample, rows, accounts, steps, rng):
    sequence = account_sequence(rows, accounts, rng)
    out.write(",".join(HEADER) + "\n")
    lines = []
    for i, account in enumerate(sequence):
        step = 1 + i * steps // rows
        head, tail = sample[rng.randrange(len(sample))]
        lines.append(f"{step},{head},C{FIRST_ACCOUNT_ID + account},{tail},0.0\n")
        if len(lines) == WRITE_BATCH_ROWS:
            out.write("".join(lines))
            lines.clear()
    out.write("".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True, help="data rows to write")
    parser.add_argument("--accounts", type=int, required=True,
                        help="distinct nameOrig ids, at most --rows")
    parser.add_argument("--steps", type=int, default=743,
                        help="last step (hours); steps run from 1 to this (default 743)")
    parser.add_argument("--seed", type=int, default=20240301, help="random seed (default 20240301)")
    parser.add_argument("--sample", type=pathlib.Path, default=DEFAULT_SAMPLE,
                        help="PaySim CSV to resample rows from (default: the bundled sample)")
    parser.add_argument("--out", type=pathlib.Path, required=True,
                        help="output CSV path; '-' writes to standard output")
    args = parser.parse_args()

    if args.rows < 1:
        parser.error(f"--rows must be at least 1, got {args.rows}")
    if not 1 <= args.accounts <= args.rows:
        parser.error(f"--accounts must be between 1 and --rows ({args.rows}), got {args.accounts}")
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")

    sample = load_sample(args.sample)
    rng = random.Random(args.seed)
    if str(args.out) == "-":
        write_rows(sys.stdout, sample, args.rows, args.accounts, args.steps, rng)
    else:
        with open(args.out, "w", encoding="ascii", newline="") as out:
            write_rows(out, sample, args.rows, args.accounts, args.steps, rng)


if __name__ == "__main__":
    main()
