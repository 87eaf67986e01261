package io.dmtree.cn.carrier.rdma;

import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

import static io.dmtree.cn.carrier.rdma.SendWorkRequestLayout.ATOMIC_COMPARE_ADD_OFFSET;
import static io.dmtree.cn.carrier.rdma.SendWorkRequestLayout.ATOMIC_END;
import static io.dmtree.cn.carrier.rdma.SendWorkRequestLayout.ATOMIC_REMOTE_ADDR_OFFSET;
import static io.dmtree.cn.carrier.rdma.SendWorkRequestLayout.ATOMIC_RKEY_OFFSET;
import static io.dmtree.cn.carrier.rdma.SendWorkRequestLayout.ATOMIC_SWAP_OFFSET;
import static io.dmtree.cn.carrier.rdma.SendWorkRequestLayout.IBV_WR_ATOMIC_CMP_AND_SWP;
import static io.dmtree.cn.carrier.rdma.SendWorkRequestLayout.IBV_WR_ATOMIC_FETCH_AND_ADD;
import static io.dmtree.cn.carrier.rdma.SendWorkRequestLayout.OPCODE_OFFSET;

/**
 * Writes the {@code wr.atomic} member of a serialised {@code ibv_send_wr}, which DiSNI 2.1 never
 * writes: remote address, compare-add operand, swap operand and rkey, plus the opcode. Called on
 * the work request DiSNI already serialised (wr_id, next, sg_list, num_sge, flags are DiSNI's), right
 * before the post; it overwrites what DiSNI put in the union (its {@code wr.rdma} rkey lies where
 * {@code compare_add} goes). Values are in host byte order (x86-64: little-endian), as libibverbs
 * takes them.
 */
public final class AtomicFieldsEncoder {
    private static final ByteOrder HOST = ByteOrder.nativeOrder();

    private AtomicFieldsEncoder() {
    }

    /** Compare-and-swap at {@code remoteAddress}: the 8 bytes there become {@code swap} if they equal {@code compare}. */
    public static void compareAndSwap(MutableDirectBuffer wr, int at, long remoteAddress, int rkey, long compare, long swap) {
        encode(wr, at, IBV_WR_ATOMIC_CMP_AND_SWP, remoteAddress, rkey, compare, swap);
    }

    /** Fetch-and-add of {@code add} at {@code remoteAddress}. */
    public static void fetchAndAdd(MutableDirectBuffer wr, int at, long remoteAddress, int rkey, long add) {
        encode(wr, at, IBV_WR_ATOMIC_FETCH_AND_ADD, remoteAddress, rkey, add, 0);
    }

    private static void encode(MutableDirectBuffer wr, int at, int opcode, long remoteAddress, int rkey, long compareAdd, long swap) {
        if ((remoteAddress & 7) != 0) {
            throw new IllegalArgumentException("RDMA atomics need an 8-byte aligned remote address: 0x" + Long.toHexString(remoteAddress));
        }
        wr.boundsCheck(at, ATOMIC_END);
        wr.putInt(at + OPCODE_OFFSET, opcode, HOST);
        wr.putLong(at + ATOMIC_REMOTE_ADDR_OFFSET, remoteAddress, HOST);
        wr.putLong(at + ATOMIC_COMPARE_ADD_OFFSET, compareAdd, HOST);
        wr.putLong(at + ATOMIC_SWAP_OFFSET, swap, HOST);
        wr.putInt(at + ATOMIC_RKEY_OFFSET, rkey, HOST);
        wr.putInt(at + ATOMIC_RKEY_OFFSET + 4, 0, HOST);
    }
}
