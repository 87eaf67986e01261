package io.dmtree.cn.carrier;

import io.dmtree.cn.carrier.tcp.TcpCarrierClient;
import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.memory.GlobalAddress;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code tcp} carrier against the shared verb semantics: two memory nodes' verb services on
 * loopback, one client with one connection per memory node and one with two.
 */
class TcpCarrierContractTest extends VerbSemanticsContract {
    /** The scratch bytes the suite uses; a memory node zeroes only what it hands out, so the fixture zeroes these. */
    private static final int SCRATCH_BYTES = 256 << 10;

    @TempDir
    Path dir;

    @Override
    protected Fixture start() {
        CarrierFixture f = CarrierFixture.joined("tcp", CONFIG, dir, CarrierOptions.NONE,
                i -> new CarrierOptions(Map.of(TcpCarrierClient.CONNECTIONS, "" + (i + 1))));
        UnsafeBuffer zeros = new UnsafeBuffer(new byte[SCRATCH_BYTES]);
        for (int mn = 0; mn < 2; mn++) {
            f.client(0).write(GlobalAddress.of(mn, SCRATCH), zeros, 0, SCRATCH_BYTES);
        }
        return f;
    }
}
