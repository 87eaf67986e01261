package io.dmtree.workloads.ycsb;

import io.dmtree.core.memory.VerbCounts;

/**
 * What the operations of a run phase cost at the memory nodes: verbs, round trips and bytes, in
 * total and per operation.
 *
 * @param traffic    counter differences over the phase
 * @param operations operations in the phase
 */
public record MemoryNodeCost(VerbCounts traffic, long operations) {
    private double per(long n) {
        return operations == 0 ? 0.0 : (double) n / operations;
    }

    public double verbsPerOp() {
        return per(traffic.verbs());
    }

    public double readsPerOp() {
        return per(traffic.reads());
    }

    public double writesPerOp() {
        return per(traffic.writes());
    }

    public double casPerOp() {
        return per(traffic.cas());
    }

    public double faaPerOp() {
        return per(traffic.faa());
    }

    public double roundTripsPerOp() {
        return per(traffic.roundTrips());
    }

    public double bytesPerOp() {
        return per(traffic.bytes());
    }
}
