package io.dmtree.mn.carrier.rdma;

import com.ibm.disni.RdmaPassiveEndpointGroup;
import com.ibm.disni.verbs.IbvPd;

import java.io.IOException;

/**
 * A DiSNI endpoint group that creates every accepted queue pair in a protection domain of its own
 * (DiSNI's default shares one per device). An rkey is honoured only on queue pairs of the
 * protection domain its registration was made in, so a window registered in one member's queue
 * pair's domain cannot be used through any other queue pair, even by a member that learnt its
 * rkey; and a queue pair nobody attached reaches no memory at all. This is what binding a type 2
 * memory window to a queue pair gives, obtained with the registrations DiSNI 2.1 has (it has no
 * {@code ibv_alloc_mw}, and its 72-byte work requests cannot carry {@code ibv_send_wr}'s
 * {@code bind_mw} member, which a test shows lies beyond them).
 */
final class OwnDomainGroup extends RdmaPassiveEndpointGroup<QueuePairEndpoint> {
    OwnDomainGroup(int timeoutMillis, int maxWorkRequests, int maxSge, int cqSize) throws IOException {
        super(timeoutMillis, maxWorkRequests, maxSge, cqSize);
    }

    @Override
    public synchronized IbvPd createProtectionDomain(QueuePairEndpoint endpoint) throws IOException {
        return endpoint.getIdPriv().getVerbs().allocPd();
    }
}
