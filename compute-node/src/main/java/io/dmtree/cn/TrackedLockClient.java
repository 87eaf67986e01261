package io.dmtree.cn;

import io.dmtree.core.lock.LockClient;
import io.dmtree.core.lock.LockMode;
import io.dmtree.core.memory.VerbBatch;

/**
 * The lock client a compute node's tree and workers use: the design's client, with each hold
 * counted in the node's {@link InFlightWork} from the start of its acquire to the end of its
 * release. A lock operation that throws leaves the node not quiescent for good (its queue entry
 * or hold may be left on the memory nodes). Recovery gets the design's own client through
 * {@link #designClient}.
 */
final class TrackedLockClient implements LockClient {
    private final LockClient design;
    private final InFlightWork inFlight;

    TrackedLockClient(LockClient design, InFlightWork inFlight) {
        this.design = design;
        this.inFlight = inFlight;
    }

    @Override
    public void acquire(long lock, LockMode mode) {
        inFlight.enter();
        try {
            design.acquire(lock, mode);
        } catch (RuntimeException | Error e) {
            inFlight.failed(e);
            throw e;
        }
    }

    @Override
    public void release(long lock, LockMode mode, VerbBatch writeBack) {
        try {
            design.release(lock, mode, writeBack);
        } catch (RuntimeException | Error e) {
            inFlight.failed(e);
            throw e;
        }
        inFlight.exit();
    }

    @Override
    public LockClient designClient() {
        return design.designClient();
    }

    @Override
    public void close() {
        design.close();
    }
}
