package io.dmtree.cn.carrier.rdma;

import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.IbvSge;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.SVCPollCq;
import com.ibm.disni.verbs.SVCPostSend;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.mn.carrier.rdma.QueuePairEndpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One connected RC queue pair with its completion queue and a registered staging buffer, used by
 * one thread at a time (its owner locks it). {@link #post} sends a list of work requests, the last
 * one signalled, and polls the completion queue until that one completes: on an RC queue pair the
 * requests before it have completed then too. A completion with an error status, a closed queue
 * pair or no completion within the timeout throws {@link RemoteAccessException}; the queue pair is
 * then unusable (RC queue pairs go to the error state) and {@link #broken()} says so.
 */
final class QueuePair implements AutoCloseable {
    private final String peer;
    private final QueuePairEndpoint endpoint;
    private final ByteBuffer staging;
    private final IbvMr stagingMr;
    private final IbvWC[] completions = new IbvWC[16];
    private final SVCPollCq poll;
    private final long timeoutNanos;
    private long nextWrId = 1;
    private volatile String broken;
    /** This queue pair's memory windows, set once it is attached. */
    private volatile MemberWindowTable windows;

    QueuePair(String peer, QueuePairEndpoint endpoint, int stagingBytes, int timeoutMillis) throws IOException {
        this.peer = peer;
        this.endpoint = endpoint;
        this.staging = ByteBuffer.allocateDirect(stagingBytes);
        this.stagingMr = endpoint.registerMemory(staging).execute().free().getMr();
        for (int i = 0; i < completions.length; i++) {
            completions[i] = new IbvWC();
        }
        this.poll = endpoint.getCqProvider().getCQ().poll(completions, completions.length);
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    }

    ByteBuffer staging() {
        return staging;
    }

    long stagingAddress() {
        return stagingMr.getAddr();
    }

    int lkey() {
        return stagingMr.getLkey();
    }

    /** The connection-manager source address the memory node knows this queue pair by. */
    java.net.InetSocketAddress source() throws IOException {
        if (endpoint.getSrcAddr() instanceof java.net.InetSocketAddress a) {
            return a;
        }
        throw new IOException("the queue pair to " + peer + " has no IP source address");
    }

    void attached(MemberWindowTable table) {
        windows = table;
    }

    MemberWindowTable windows() {
        MemberWindowTable w = windows;
        if (w == null) {
            throw new IllegalStateException("the queue pair to " + peer + " is not attached");
        }
        return w;
    }

    String broken() {
        return broken;
    }

    void markBroken(String reason) {
        if (broken == null) {
            broken = reason;
        }
    }

    /** A work request with one scatter-gather entry in the staging buffer. */
    IbvSendWR request(int opcode, int stagingOffset, int length, long remoteAddress, int rkey, int flags) {
        IbvSge sge = new IbvSge();
        sge.setAddr(stagingAddress() + stagingOffset);
        sge.setLength(length);
        sge.setLkey(lkey());
        LinkedList<IbvSge> sges = new LinkedList<>();
        sges.add(sge);
        IbvSendWR wr = new IbvSendWR();
        wr.setWr_id(nextWrId++);
        wr.setSg_list(sges);
        wr.setNum_sge(1);
        wr.setOpcode(opcode);
        wr.setSend_flags(flags);
        wr.getRdma().setRemote_addr(remoteAddress);
        wr.getRdma().setRkey(rkey);
        return wr;
    }

    /** The requests' atomic members, written after DiSNI serialised them: index, kind, address, rkey, operands. */
    interface AtomicPatch {
        void apply(SVCPostSend call, int count) throws IOException;
    }

    /** Posts {@code wrs} (the last one signalled) and waits for the last completion. */
    void post(List<IbvSendWR> wrs, AtomicPatch atomics) {
        if (broken != null) {
            throw new RemoteAccessException("the RDMA connection to " + peer + " is broken: " + broken);
        }
        long last = wrs.get(wrs.size() - 1).getWr_id();
        SVCPostSend call = null;
        try {
            call = endpoint.postSend(wrs);
            if (atomics != null) {
                atomics.apply(call, wrs.size());
            }
            call.execute();
            long deadline = System.nanoTime() + timeoutNanos;
            while (true) {
                int n = poll.execute().getPolls();
                for (int i = 0; i < n; i++) {
                    IbvWC wc = completions[i];
                    if (wc.getStatus() != IbvWC.IbvWcStatus.IBV_WC_SUCCESS.ordinal()) {
                        String status = IbvWC.IbvWcStatus.valueOf(wc.getStatus()).name();
                        markBroken("work completion " + status);
                        if (wc.getStatus() == IbvWC.IbvWcStatus.IBV_WC_REM_ACCESS_ERR.ordinal()) {
                            throw new io.dmtree.core.memory.AccessDeniedException("the NIC of " + peer + " refused an RDMA"
                                    + " request outside this member's memory windows (" + status + "; revoked, or beyond its"
                                    + " rights); the spare queue pair takes over");
                        }
                        throw new RemoteAccessException("RDMA request to " + peer + " failed: " + status);
                    }
                    if (wc.getWr_id() == last) {
                        return;
                    }
                }
                if (n == 0) {
                    if (System.nanoTime() > deadline) {
                        markBroken("no completion within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
                        throw new RemoteAccessException("RDMA request to " + peer + " got no completion within "
                                + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
                    }
                    Thread.onSpinWait();
                }
            }
        } catch (IOException e) {
            markBroken(e.getMessage());
            throw new RemoteAccessException("RDMA request to " + peer + " failed: " + e.getMessage(), e);
        } finally {
            if (call != null) {
                call.free();
            }
        }
    }

    @Override
    public void close() {
        markBroken("closed");
        try {
            poll.free();
            endpoint.close();
        } catch (IOException | InterruptedException e) {
            // closing anyway
        }
    }
}
