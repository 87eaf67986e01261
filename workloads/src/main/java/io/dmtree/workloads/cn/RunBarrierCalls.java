package io.dmtree.workloads.cn;

import io.dmtree.cn.control.BarrierRelease;
import io.dmtree.cn.control.ClusterClient;
import io.dmtree.cn.control.ControlException;
import io.dmtree.core.membership.BarrierTimeoutException;
import io.dmtree.core.wire.ErrorCode;

import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The calls {@link RunBarriers} is made of, for a joined {@link ClusterClient}, in either kind of
 * cluster:
 *
 * <ul>
 * <li>Without membership: control-plane barriers of memory node 0. Leaving with a note hangs up the
 * control connection; memory node 0 keeps the arrival for the round's other parties.</li>
 * <li>With membership: membership barriers (a counting barrier of compute nodes, or the member
 * barrier of the incarnations met before). A round not released in time is a {@link ControlException}
 * refused with {@link ErrorCode#TIMEOUT} (membership withdrew the arrival), a round that waits for
 * other parties one refused with {@link ErrorCode#STATE}, as the control plane answers. An arrival
 * lives in its lease's session, so it cannot outlive the process: leaving with a note arrives with
 * it and waits, in calls of at most {@link RunBarriers#DEFAULT_SLICE_MILLIS}, until the round
 * releases (so every party gets the note), the process stops, or the wait is over, then closes the
 * lease. A member barrier excuses a party whose lease ended, so the wait there is at most
 * {@link #MEMBER_LINGER_MILLIS}: partners waiting at that barrier re-arrive within one call and get
 * the note; partners still busy find the refuser lapsed and excused. A counting barrier excuses
 * nobody, so there the note waits up to the wait given.</li>
 * </ul>
 */
public final class RunBarrierCalls {
    /** Longest wait of a note at a membership member barrier before the lease is closed. */
    public static final int MEMBER_LINGER_MILLIS = 5_000;

    private RunBarrierCalls() {
    }

    /** The calls for {@code cluster}; {@code stopping} ends a note's wait (SIGTERM). */
    public static RunBarriers.Calls of(ClusterClient cluster, BooleanSupplier stopping) {
        return cluster.coordination() == null ? controlPlane(cluster) : membership(cluster, stopping);
    }

    private static RunBarriers.Calls controlPlane(ClusterClient cluster) {
        return new RunBarriers.Calls() {
            @Override
            public BarrierRelease arrive(String name, int parties, Set<Integer> members, int waitMillis, byte[] payload) {
                return members.isEmpty() ? new BarrierRelease(cluster.barrier(name, parties, waitMillis, payload), Set.of())
                        : cluster.barrierOf(name, members, waitMillis, payload);
            }

            @Override
            public void arriveAndLeave(String name, int parties, Set<Integer> members, int waitMillis, byte[] payload) {
                cluster.arriveAndHangUp(name, parties, members, waitMillis, payload, RunBarriers.ANSWER_MILLIS);
            }
        };
    }

    private static RunBarriers.Calls membership(ClusterClient cluster, BooleanSupplier stopping) {
        return new RunBarriers.Calls() {
            @Override
            public BarrierRelease arrive(String name, int parties, Set<Integer> members, int waitMillis, byte[] payload) {
                try {
                    return members.isEmpty() ? new BarrierRelease(cluster.barrier(name, parties, waitMillis, payload), Set.of())
                            : cluster.barrierOf(name, members, waitMillis, payload);
                } catch (BarrierTimeoutException e) {
                    throw new ControlException(e.getMessage(), ErrorCode.TIMEOUT);
                } catch (IllegalArgumentException e) {
                    throw new ControlException(e.getMessage(), ErrorCode.STATE);
                }
            }

            @Override
            public void arriveAndLeave(String name, int parties, Set<Integer> members, int waitMillis, byte[] payload) {
                long linger = members.isEmpty() ? waitMillis : Math.min(waitMillis, MEMBER_LINGER_MILLIS);
                long deadline = System.nanoTime() + linger * 1_000_000;
                boolean keepLease = false;
                try {
                    for (int attempt = 0; !stopping.getAsBoolean(); attempt++) {
                        long left = (deadline - System.nanoTime()) / 1_000_000;
                        int wait = (int) Math.max(1, Math.min(RunBarriers.DEFAULT_SLICE_MILLIS, left));
                        try {
                            arrive(name, parties, members, wait, payload);
                            return; // released: every party got the note
                        } catch (ControlException e) {
                            if (attempt == 0 && e.refusedWith(ErrorCode.STATE)) {
                                keepLease = true; // nothing changed: the caller may try other parties
                                throw e;
                            }
                            if (!e.refusedWith(ErrorCode.TIMEOUT) || System.nanoTime() - deadline >= 0) {
                                return; // the others excuse a closed lease at member barriers
                            }
                        }
                    }
                } finally {
                    if (!keepLease) {
                        cluster.lease().close(); // leaves membership
                    }
                }
            }
        };
    }
}
