package io.dmtree.cn.carrier;

import io.dmtree.cn.control.ClusterClient;
import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.memory.Verbs;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two memory-node servers on one carrier, started through the registry by the carrier's name, and
 * two compute nodes joined to them through the registry's client half ({@link ClusterClient}), as
 * a {@link VerbSemanticsContract.Fixture}. The clients' carrier options may differ (the shm
 * clients map with another segment size than the memory nodes).
 */
final class CarrierFixture implements VerbSemanticsContract.Fixture {
    private final List<MemoryNodeServer> servers = new ArrayList<>();
    private final List<ClusterClient> clients = new ArrayList<>();
    private final List<Verbs> verbs = new ArrayList<>();

    /** Memory nodes and joined clients; {@code clientOptions} gives client {@code i}'s carrier options. */
    static CarrierFixture joined(String carrier, MemoryNodeConfig config, Path dir, CarrierOptions serverOptions,
                                 Function<Integer, CarrierOptions> clientOptions) {
        CarrierFixture f = new CarrierFixture(carrier, config, dir, serverOptions);
        try {
            List<InetSocketAddress> addresses = new ArrayList<>();
            f.servers.forEach(s -> addresses.add(s.address()));
            for (int i = 0; i < 2; i++) {
                ClusterClient c = ClusterClient.join(ClusterClient.Options.of(addresses).withTimeoutMillis(20_000)
                        .withCarrierOptions(clientOptions.apply(i)));
                f.clients.add(c);
                f.verbs.add(c.verbs());
            }
            return f;
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** Memory nodes only; the caller makes the clients' verbs from the servers (the in-JVM local carrier). */
    static CarrierFixture served(String carrier, MemoryNodeConfig config, Path dir, Function<List<MemoryNodeServer>, List<Verbs>> clients) {
        CarrierFixture f = new CarrierFixture(carrier, config, dir, CarrierOptions.NONE);
        f.verbs.addAll(clients.apply(f.servers));
        return f;
    }

    private CarrierFixture(String carrier, MemoryNodeConfig config, Path dir, CarrierOptions serverOptions) {
        try {
            for (int i = 0; i < 2; i++) {
                servers.add(MemoryNodeServer.start(MemoryNodeOptions.of(i, new InetSocketAddress("127.0.0.1", 0), config, carrier, dir)
                        .withMaxFrameBytes(1 << 20).withCarrierOptions(serverOptions)));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public Verbs client(int i) {
        return verbs.get(i);
    }

    @Override
    public void close() {
        clients.forEach(ClusterClient::close);
        for (MemoryNodeServer s : servers) {
            assertEquals(0, s.frameServer().internalErrors(), "internal errors on memory node " + s.options().id());
            s.close();
        }
    }
}
