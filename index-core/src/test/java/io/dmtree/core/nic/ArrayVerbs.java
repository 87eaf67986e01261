package io.dmtree.core.nic;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbKind;
import io.dmtree.core.memory.Verbs;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/** Test carrier: memory node regions as off-heap buffers; atomics are the buffer's atomics. */
final class ArrayVerbs implements Verbs {
    private final UnsafeBuffer[] regions;

    ArrayVerbs(int memoryNodes, int bytes) {
        regions = new UnsafeBuffer[memoryNodes];
        for (int i = 0; i < memoryNodes; i++) {
            regions[i] = new UnsafeBuffer(ByteBuffer.allocateDirect(bytes));
        }
    }

    private UnsafeBuffer region(long address) {
        int mn = GlobalAddress.memoryNode(address);
        if (mn >= regions.length) {
            throw new RemoteAccessException("no memory node " + mn);
        }
        return regions[mn];
    }

    private static int off(long address) {
        return (int) GlobalAddress.offset(address);
    }

    @Override
    public void read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        dst.putBytes(dstOffset, region(address), off(address), length);
    }

    @Override
    public void write(long address, DirectBuffer src, int srcOffset, int length) {
        region(address).putBytes(off(address), src, srcOffset, length);
    }

    @Override
    public long cas(long address, long expected, long desired) {
        UnsafeBuffer r = region(address);
        while (true) {
            long found = r.getLongVolatile(off(address));
            if (found != expected) {
                return found;
            }
            if (r.compareAndSetLong(off(address), expected, desired)) {
                return expected;
            }
        }
    }

    @Override
    public long faa(long address, long delta) {
        return region(address).getAndAddLong(off(address), delta);
    }

    @Override
    public void post(VerbBatch batch) {
        for (int i = 0; i < batch.size(); i++) {
            long a = batch.address(i);
            VerbKind k = batch.kind(i);
            switch (k) {
                case READ -> read(a, batch.readBuffer(i), batch.bufferOffset(i), batch.length(i));
                case WRITE -> write(a, batch.writeBuffer(i), batch.bufferOffset(i), batch.length(i));
                case CAS -> batch.setResult(i, cas(a, batch.operand1(i), batch.operand2(i)));
                case FAA -> batch.setResult(i, faa(a, batch.operand1(i)));
            }
        }
    }

    @Override
    public int memoryNodeCount() {
        return regions.length;
    }
}
