#!/usr/bin/env python3
"""Read saved Prometheus text scrapes of txguard processes.

  metrics.py sum NAME FILE...
      Sum of every series of counter or gauge NAME over the files (for
      example txguard_transactions_decided_total over all workers).

  metrics.py quantile NAME Q --before FILE... --after FILE...
      Quantile Q of histogram NAME over the observations made between the
      two sets of scrapes (same processes, same order): bucket counts are
      summed over the files, the before counts are subtracted, and Q is
      interpolated linearly inside its bucket, as PromQL's
      histogram_quantile() does. Also prints the count and the mean.
"""

import argparse
import math
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')
LE = re.compile(r'le="([^"]+)"')


def samples(path):
    with open(path, encoding="utf-8") as scrape:
        for line in scrape:
            if line.startswith("#"):
                continue
            match = SAMPLE.match(line)
            if match:
                yield match.group(1), match.group(2) or "", float(match.group(3))


def counter_sum(name, paths):
    return sum(value for path in paths for metric, _, value in samples(path) if metric == name)


def buckets(name, paths):
    """Cumulative count per upper bound, summed over the files."""
    counts = {}
    for path in paths:
        for metric, labels, value in samples(path):
            if metric != name + "_bucket":
                continue
            bound = LE.search(labels).group(1)
            upper = math.inf if bound == "+Inf" else float(bound)
            counts[upper] = counts.get(upper, 0.0) + value
    return counts


def quantile(q, counts):
    bounds = sorted(counts)
    total = counts[math.inf]
    if total <= 0:
        return math.nan
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for upper in bounds:
        if counts[upper] >= rank:
            if upper == math.inf:
                return lower_bound  # above the last finite bucket: only a lower bound
            inside = counts[upper] - lower_count
            fraction = (rank - lower_count) / inside if inside > 0 else 1.0
            return lower_bound + (upper - lower_bound) * fraction
        lower_bound, lower_count = upper, counts[upper]
    return math.nan


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    total = commands.add_parser("sum")
    total.add_argument("name")
    total.add_argument("files", nargs="+")
    share = commands.add_parser("quantile")
    share.add_argument("name")
    share.add_argument("q", type=float)
    share.add_argument("--before", nargs="+", required=True)
    share.add_argument("--after", nargs="+", required=True)
    args = parser.parse_args()

    if args.command == "sum":
        print(f"{counter_sum(args.name, args.files):.0f}")
        return 0

    before = buckets(args.name, args.before)
    after = buckets(args.name, args.after)
    if not after:
        sys.exit(f"metrics.py: no histogram {args.name} in {' '.join(args.after)}")
    delta = {bound: after[bound] - before.get(bound, 0.0) for bound in after}
    count = delta[math.inf]
    seconds = counter_sum(args.name + "_sum", args.after) - counter_sum(args.name + "_sum",
                                                                         args.before)
    print(f"count={count:.0f}")
    print(f"mean_seconds={seconds / count if count else math.nan:.6f}")
    print(f"quantile_seconds={quantile(args.q, delta):.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
