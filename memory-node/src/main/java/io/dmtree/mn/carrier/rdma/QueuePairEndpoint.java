package io.dmtree.mn.carrier.rdma;

import com.ibm.disni.RdmaEndpoint;
import com.ibm.disni.RdmaEndpointGroup;
import com.ibm.disni.verbs.IbvPd;
import com.ibm.disni.verbs.RdmaCmId;

import java.io.IOException;

/** A DiSNI endpoint (one RC queue pair with its own completion queue) whose CQ the owner polls. */
public final class QueuePairEndpoint extends RdmaEndpoint {
    public QueuePairEndpoint(RdmaEndpointGroup<QueuePairEndpoint> group, RdmaCmId id, boolean serverSide) throws IOException {
        super(group, id, serverSide);
    }

    /** The protection domain the queue pair was created in (a memory node gives each accepted one its own). */
    public IbvPd protectionDomain() {
        return pd;
    }
}
