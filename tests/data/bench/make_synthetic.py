"""Writes synthetic.txt: benchmark text built to reach every branch of benchmath's U test.

Real runs rarely hit exact-with-ties or the normal approximation, so these values are chosen
(seeded) to do so; benchstat's output on them is the reference (see capture.sh).
"""

import random
import sys


def main() -> None:
    rng = random.Random(20260908)

    def pick(choices: list[int] | range, n: int) -> list[float]:
        return [float(rng.choice(choices)) for _ in range(n)]

    def uniform(lo: float, hi: float, n: int) -> list[float]:
        return [rng.uniform(lo, hi) for _ in range(n)]

    cases: dict[str, tuple[list[float], list[float]]] = {
        # n <= 25 with ties: exact distribution given the ties.
        "TiesSmall": (pick([100, 101, 102, 103], 10), pick([101, 102, 103, 104], 10)),
        "TiesUneven": (pick([7, 8], 5), pick([7, 8, 9], 12)),
        "TiesSkewed": ([1, 1, 1, 1, 1, 1, 2, 3], [1, 1, 1, 1, 1, 1, 1, 2]),
        # n > 25 with ties: normal approximation with tie correction.
        "TiesLarge": (pick(range(50, 60), 30), pick(range(51, 61), 30)),
        # n <= 50 without ties: exact; n > 50: normal approximation.
        "DistinctExact": (uniform(10, 20, 40), uniform(10.5, 20.5, 35)),
        "DistinctLarge": (uniform(10, 20, 60), uniform(11, 21, 55)),
        "AllEqual": ([5.0] * 6, [5.0] * 6),
        "EqualU": ([1, 4], [2, 3]),
        "Shifted": (uniform(1, 2, 8), uniform(3, 4, 8)),
    }
    out = sys.stdout
    for label, index in (("base", 0), ("new", 1)):
        out.write(f"go: {label}\n")
        for name, samples in cases.items():
            for v in samples[index]:
                out.write(f"Benchmark{name}-2\t1000\t{v:.6g} ns/op\n")


if __name__ == "__main__":
    main()
