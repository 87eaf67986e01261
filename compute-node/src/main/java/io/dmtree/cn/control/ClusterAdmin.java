package io.dmtree.cn.control;

import io.dmtree.core.membership.FenceBook;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberId;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.MembershipView;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.RegionDescription;
import io.dmtree.mn.carrier.MemberRights;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * An operator's handle on a running cluster with membership: who is a member, with which epoch,
 * lease and rights ({@link #members()}), and revocation of a compute node ({@link #revoke}).
 * Connects like a compute node does, proving the cluster secret to memory node 0 and to
 * ZooKeeper, but joins nothing.
 *
 * <p>Revocation is a fence: it asks every memory node, through the fence book, to fence the
 * compute node's current incarnation, and returns only once every memory node that is a member
 * acknowledged it, so when it returns no verb of that incarnation takes effect anywhere (on tcp
 * they are refused; an shm memory node stops the process; rdma destroys its queue pairs), and
 * every memory node's control plane refuses that incarnation too (a JOIN, a chunk, an endpoint, a
 * barrier). The revocation stays in force while the incarnation's lease is live: fences only
 * grow, and a memory node that restarts fences every incarnation in the book before it serves. The
 * revoked compute node learns it at its next verb ({@code dmtree cn} exits with code 3); its
 * lease then ends and the live compute nodes recover what it held, as for any lapsed member.
 */
public final class ClusterAdmin implements AutoCloseable {
    private final ControlClient memoryNode0;
    private final RegionDescription described;
    private final Coordination coordination;

    private ClusterAdmin(ControlClient memoryNode0, RegionDescription described, Coordination coordination) {
        this.memoryNode0 = memoryNode0;
        this.described = described;
        this.coordination = coordination;
    }

    /** Connects to the cluster memory node 0 at {@code at} belongs to; a cluster without membership is refused. */
    public static ClusterAdmin connect(InetSocketAddress at, int timeoutMillis, ClusterSecret secret) {
        ControlClient c = ControlClient.connect(at, timeoutMillis, secret);
        try {
            RegionDescription d = c.describe();
            if (d.coordination().isEmpty()) {
                throw new ControlException("memory node 0 at " + ControlClient.describe(at) + " runs without membership "
                        + "(--zk none): it has no members, leases or fences to show or revoke");
            }
            return new ClusterAdmin(c, d, Coordination.connect(d.coordination(), timeoutMillis, secret));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.close();
            throw new ControlException("interrupted while connecting to the cluster's membership");
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** One member as the operator sees it. */
    public record MemberInfo(Member member, Duration lease, String state, String rights) {
    }

    /** The live members, memory nodes first, then the fenced incarnations not yet recovered. */
    public List<MemberInfo> members() {
        MembershipView view = coordination.membership().view();
        Duration lease = coordination.membership().options().lease();
        int memoryNodes = view.members(MemberKind.MEMORY_NODE).size();
        List<FenceBook.FenceRecord> records = coordination.book().records();
        List<MemberInfo> out = new ArrayList<>();
        for (MemberKind kind : new MemberKind[]{MemberKind.MEMORY_NODE, MemberKind.COMPUTE_NODE}) {
            for (Member m : view.members(kind)) {
                String state = "live";
                FenceBook.FenceRecord r = recordOf(records, m);
                if (r != null) {
                    state = "live, fenced by memory nodes " + new TreeSet<>(r.fencedBy()) + (r.fencedByAll(memoryNodes)
                            ? " (all): revoked" : "");
                }
                out.add(new MemberInfo(m, lease, state, kind == MemberKind.COMPUTE_NODE ? rights(m.id().id()) : "-"));
            }
        }
        for (FenceBook.FenceRecord r : records) {
            if (!r.recovered() && !view.isLive(r.member())) {
                out.add(new MemberInfo(r.member(), lease, "departed, fenced by memory nodes " + new TreeSet<>(r.fencedBy())
                        + ", awaiting recovery", "none"));
            }
        }
        return out;
    }

    private static FenceBook.FenceRecord recordOf(List<FenceBook.FenceRecord> records, Member m) {
        for (FenceBook.FenceRecord r : records) {
            if (r.member().sameIncarnation(m)) {
                return r;
            }
        }
        return null;
    }

    /** Compute node {@code cn}'s rights on memory node 0's region, range by range, in one line. */
    private String rights(int cn) {
        MemberRights r = MemberRights.of(described.regionBytes(), described.lockTableOffset(), described.lockTableBytes(),
                described.chunkAreaOffset(), cn);
        return r.describe().strip().replace("\n", "; ");
    }

    /** What a revocation did. */
    public record Revocation(Member member, Set<Integer> fencedBy, long nanos) {
    }

    /**
     * Revokes compute node {@code cn}'s current incarnation; returns once every memory node that is
     * a member fenced it, or throws after {@code timeout} naming those that did not.
     */
    public Revocation revoke(int cn, Duration timeout) throws InterruptedException {
        MembershipView view = coordination.membership().view();
        Member m = view.member(MemberId.computeNode(cn)).orElseThrow(() -> new ControlException("compute node " + cn
                + " is not a member of the cluster (members: " + view.members(MemberKind.COMPUTE_NODE) + ")"));
        Set<Integer> memoryNodes = new TreeSet<>();
        for (Member n : view.members(MemberKind.MEMORY_NODE)) {
            memoryNodes.add(n.id().id());
        }
        Thread waiter = Thread.currentThread();
        java.util.concurrent.atomic.AtomicBoolean changed = new java.util.concurrent.atomic.AtomicBoolean(true);
        AutoCloseable watch = coordination.book().watch(() -> { // wakes the wait at each acknowledgement
            changed.set(true);
            java.util.concurrent.locks.LockSupport.unpark(waiter);
        });
        try {
            return awaitFenced(m, memoryNodes, timeout, changed);
        } finally {
            try {
                watch.close();
            } catch (Exception ignored) {
                // unsubscribing a watch of a closing book
            }
        }
    }

    private Revocation awaitFenced(Member m, Set<Integer> memoryNodes, Duration timeout,
                                   java.util.concurrent.atomic.AtomicBoolean changed) throws InterruptedException {
        int cn = m.id().id();
        long start = System.nanoTime();
        coordination.book().requestFence(m);
        long deadline = start + timeout.toNanos();
        while (true) {
            changed.set(false);
            FenceBook.FenceRecord r = coordination.book().record(m);
            if (r != null && r.fencedBy().containsAll(memoryNodes)) {
                return new Revocation(m, new TreeSet<>(r.fencedBy()), System.nanoTime() - start);
            }
            if (System.nanoTime() > deadline) {
                Set<Integer> missing = new TreeSet<>(memoryNodes);
                if (r != null) {
                    missing.removeAll(r.fencedBy());
                }
                throw new ControlException("compute node " + cn + " epoch " + m.epoch() + " is not fenced by memory nodes "
                        + missing + " within " + timeout.toMillis() + " ms; it is not revoked there yet");
            }
            if (!changed.get()) { // the book's watch wakes this; the bound covers a lost wakeup
                java.util.concurrent.locks.LockSupport.parkNanos(Math.min(20_000_000L, Math.max(1, deadline - System.nanoTime())));
            }
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while waiting for the memory nodes to fence compute node " + cn);
            }
        }
    }

    @Override
    public void close() {
        coordination.close();
        memoryNode0.close();
    }
}
