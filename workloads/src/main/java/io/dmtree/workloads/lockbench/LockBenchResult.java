package io.dmtree.workloads.lockbench;

/**
 * One lock design at one contention level: measured throughput, acquire latency, and the exact MN
 * traffic of the lock per acquire+release (the critical section's own node READ and write-back
 * WRITE are subtracted from the verbs; its READ's round trip from the round trips).
 */
public record LockBenchResult(String lock, int cns, int threads, int locks, double waitersPerLock, long operations,
                       double seconds, double throughputOpsPerSecond, double p50Micros, double p99Micros,
                       double p999Micros, double mnVerbsPerOp, double mnRoundTripsPerOp) {
}
