package io.dmtree.cn.carrier.rdma;

import com.ibm.disni.verbs.SVCPostSend;
import com.ibm.disni.verbs.impl.NatIbvSendWR;

import java.io.IOException;

/**
 * Finds the native memory where DiSNI 2.1 serialised the work requests of a post-send call, so
 * {@link AtomicFieldsEncoder} can complete the atomic ones. DiSNI puts the {@code n} requests
 * {@link NatIbvSendWR#CSIZE} bytes apart at the start of one buffer, followed by their
 * scatter-gather entries; request 0's {@code sg_list} pointer (public as
 * {@link NatIbvSendWR#getPtr_sge_list()}) therefore points {@code n * CSIZE} bytes past the first
 * request, and request {@code i} sits at its buffer position {@link NatIbvSendWR#getBufPosition()}.
 */
final class DisniWorkRequests {
    private DisniWorkRequests() {
    }

    /** Native address of work request {@code index} of a call made for {@code count} requests. */
    static long address(SVCPostSend call, int index, int count) throws IOException {
        if (NatIbvSendWR.CSIZE < SendWorkRequestLayout.ATOMIC_END) {
            throw new IOException("this DiSNI lays work requests " + NatIbvSendWR.CSIZE + " bytes apart, too close for the "
                    + SendWorkRequestLayout.ATOMIC_END + "-byte atomic member");
        }
        NatIbvSendWR first = (NatIbvSendWR) call.getWrMod(0);
        NatIbvSendWR wr = (NatIbvSendWR) call.getWrMod(index);
        long base = first.getPtr_sge_list() - (long) count * NatIbvSendWR.CSIZE;
        return base + wr.getBufPosition();
    }
}
