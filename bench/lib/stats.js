// Small statistics over plain arrays of numbers.

export function sorted(values) {
  return Float64Array.from(values).sort();
}

/** Linear-interpolated quantile (q in [0, 1]) of an already sorted array. */
export function quantileSorted(sortedValues, q) {
  if (sortedValues.length === 0) return NaN;
  const pos = (sortedValues.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sortedValues[lo] + (sortedValues[hi] - sortedValues[lo]) * (pos - lo);
}

export function quantile(values, q) {
  return quantileSorted(sorted(values), q);
}

export function median(values) {
  return quantile(values, 0.5);
}

/** Median, min, max and interquartile range of a list of per-round samples. */
export function summarize(samples) {
  const s = sorted(samples);
  return {
    samples: [...samples],
    median: quantileSorted(s, 0.5),
    min: s[0],
    max: s[s.length - 1],
    q1: quantileSorted(s, 0.25),
    q3: quantileSorted(s, 0.75),
  };
}
