package io.dmtree.cn.carrier;

import io.dmtree.cn.carrier.tcp.TcpCarrierClient;
import io.dmtree.core.carrier.CarrierOptions;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code tcp} carrier against the shared verb semantics: two memory nodes' verb services on
 * loopback, one client with one connection per memory node and one with two.
 */
class TcpCarrierContractTest extends VerbSemanticsContract {
    @TempDir
    Path dir;

    @Override
    protected Fixture start() {
        return CarrierFixture.joined("tcp", CONFIG, dir, CarrierOptions.NONE,
                i -> new CarrierOptions(Map.of(TcpCarrierClient.CONNECTIONS, "" + (i + 1))));
    }
}
