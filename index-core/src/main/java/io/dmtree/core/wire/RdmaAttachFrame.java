package io.dmtree.core.wire;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code RDMA_ATTACH}: a compute node, on a connection that authenticated as its incarnation (the
 * {@link HelloFrame#SERVICE_RDMA_ATTACH} service), names the queue pairs it connected to the
 * memory node's rdma endpoint by their connection-manager source address; the memory node
 * registers the member's windows in each one's protection domain and answers, per queue pair in
 * request order, the windows. Little-endian like every frame; bodies after the {@link FrameHeader}:
 *
 * <pre>
 * request:
 *   0         2         4
 *   +---------+---------+---------------------------------------------- - -
 *   | qps u16 | pad u16 | qps x queue pair (QP_BYTES = 20):
 *   +---------+---------+
 *     0        1        2         4                                    20
 *     +--------+--------+---------+------------------------------------+
 *     | family | pad u8 | port u16| address: 4 (IPv4) or 16 (IPv6) bytes, zero padded |
 *     +--------+--------+---------+------------------------------------+
 * reply:
 *   0         2         4
 *   +---------+---------+-------------------------------------------------- - -
 *   | qps u16 | pad u16 | per queue pair: windows u16, pad u16, then windows x (WINDOW_BYTES = 32):
 *   +---------+---------+
 *     0                 8                 16        20        24        28        32
 *     +-----------------+-----------------+---------+---------+---------+---------+
 *     | region offset   | virtual address | length  | rkey    | rights  | pad     |
 *     +-----------------+-----------------+---------+---------+---------+---------+
 * </pre>
 */
public final class RdmaAttachFrame {
    public static final int QP_BYTES = 20;
    public static final int QP_FAMILY_OFFSET = 0;
    public static final int QP_PORT_OFFSET = 2;
    public static final int QP_ADDRESS_OFFSET = 4;
    public static final int QP_ADDRESS_BYTES = QP_BYTES - QP_ADDRESS_OFFSET;
    public static final int WINDOW_BYTES = 32;
    public static final int FAMILY_IPV4 = 4;
    public static final int FAMILY_IPV6 = 6;
    /** Most queue pairs one request names, and most windows one queue pair gets. */
    public static final int MAX_QUEUE_PAIRS = 64;
    public static final int MAX_WINDOWS = 64;

    private RdmaAttachFrame() {
    }

    /** Writes the request naming {@code queuePairs} (their connection-manager source addresses). */
    public static FrameWriter request(FrameWriter w, long correlationId, List<InetSocketAddress> queuePairs) {
        if (queuePairs.isEmpty() || queuePairs.size() > MAX_QUEUE_PAIRS) {
            throw new IllegalArgumentException("an attach names 1 to " + MAX_QUEUE_PAIRS + " queue pairs, not " + queuePairs.size());
        }
        w.begin(FrameHeader.TYPE_RDMA_ATTACH, 0, correlationId).u16(queuePairs.size()).u16(0);
        for (InetSocketAddress a : queuePairs) {
            if (a.getAddress() == null) {
                throw new IllegalArgumentException("unresolved queue pair address " + a);
            }
            byte[] ip = a.getAddress().getAddress();
            w.u8(ip.length == 4 ? FAMILY_IPV4 : FAMILY_IPV6).u8(0).u16(a.getPort()).bytes(ip);
            for (int i = ip.length; i < QP_ADDRESS_BYTES; i++) {
                w.u8(0);
            }
        }
        return w.finish();
    }

    /** Reads a request's queue pair addresses (the header already read by {@code r}). */
    public static List<InetSocketAddress> queuePairs(FrameReader r) throws MalformedFrameException {
        int n = r.u16("queue pairs");
        r.skip(2, "padding");
        if (n < 1 || n > MAX_QUEUE_PAIRS) {
            throw new MalformedFrameException(ErrorCode.OUT_OF_RANGE, "an attach names 1 to " + MAX_QUEUE_PAIRS
                    + " queue pairs, not " + n);
        }
        List<InetSocketAddress> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int family = r.u8("address family");
            r.skip(1, "padding");
            int port = r.u16("port");
            byte[] raw = r.bytes(QP_ADDRESS_BYTES, "address");
            int len = switch (family) {
                case FAMILY_IPV4 -> 4;
                case FAMILY_IPV6 -> 16;
                default -> throw new MalformedFrameException(ErrorCode.MALFORMED, "address family " + family + " is not 4 or 6");
            };
            try {
                out.add(new InetSocketAddress(InetAddress.getByAddress(java.util.Arrays.copyOf(raw, len)), port));
            } catch (UnknownHostException e) {
                throw new MalformedFrameException(ErrorCode.MALFORMED, "bad queue pair address: " + e.getMessage());
            }
        }
        r.end();
        return out;
    }

    /** Writes the reply: per queue pair of the request, in its order, its windows. */
    public static FrameWriter reply(FrameWriter w, long correlationId, List<List<RdmaWindow>> windows) {
        w.begin(FrameHeader.TYPE_RDMA_ATTACH | FrameHeader.REPLY_BIT, 0, correlationId).u16(windows.size()).u16(0);
        for (List<RdmaWindow> qp : windows) {
            if (qp.size() > MAX_WINDOWS) {
                throw new IllegalArgumentException(qp.size() + " windows for one queue pair, more than " + MAX_WINDOWS);
            }
            w.u16(qp.size()).u16(0);
            for (RdmaWindow x : qp) {
                w.i64(x.regionOffset()).i64(x.address()).i32(x.length()).i32(x.rkey()).i32(x.rights()).i32(0);
            }
        }
        return w.finish();
    }

    /** Reads a reply's windows per queue pair (the header already read by {@code r}). */
    public static List<List<RdmaWindow>> windows(FrameReader r) throws MalformedFrameException {
        int n = r.u16("queue pairs");
        r.skip(2, "padding");
        if (n > MAX_QUEUE_PAIRS) {
            throw new MalformedFrameException(ErrorCode.OUT_OF_RANGE, n + " queue pairs in an attach reply");
        }
        List<List<RdmaWindow>> out = new ArrayList<>(n);
        for (int q = 0; q < n; q++) {
            int m = r.u16("windows");
            r.skip(2, "padding");
            if (m > MAX_WINDOWS) {
                throw new MalformedFrameException(ErrorCode.OUT_OF_RANGE, m + " windows for one queue pair");
            }
            List<RdmaWindow> ws = new ArrayList<>(m);
            for (int i = 0; i < m; i++) {
                long offset = r.i64("region offset");
                long address = r.i64("address");
                int length = r.i32("length");
                int rkey = r.i32("rkey");
                int rights = r.i32("rights");
                r.skip(4, "padding");
                try {
                    ws.add(new RdmaWindow(offset, address, length, rkey, rights));
                } catch (IllegalArgumentException e) {
                    throw new MalformedFrameException(ErrorCode.MALFORMED, e.getMessage());
                }
            }
            out.add(List.copyOf(ws));
        }
        r.end();
        return out;
    }
}
