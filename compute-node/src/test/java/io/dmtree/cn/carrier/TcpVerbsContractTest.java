package io.dmtree.cn.carrier;

import io.dmtree.cn.tcp.TcpVerbs;
import io.dmtree.cn.tcp.TcpVerbsConfig;
import io.dmtree.core.memory.Verbs;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.tcp.FrameServer;
import io.dmtree.mn.tcp.FrameService;
import io.dmtree.mn.tcp.HelloFrame;
import io.dmtree.mn.tcp.VerbService;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The {@code tcp} carrier against the shared verb semantics: two verb servers on loopback. */
class TcpVerbsContractTest extends VerbSemanticsContract {
    @Override
    protected Fixture start() throws Exception {
        List<MemoryNode> nodes = new ArrayList<>();
        List<FrameServer> servers = new ArrayList<>();
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            MemoryNode mn = new MemoryNode(i, CONFIG);
            nodes.add(mn);
            FrameServer s = new FrameServer(new InetSocketAddress("127.0.0.1", 0), i, 1 << 20,
                    Map.<Integer, FrameService>of(HelloFrame.SERVICE_VERBS, new VerbService(mn.region(), 1 << 20)), "test-mn" + i);
            servers.add(s);
            addresses.add(s.address());
        }
        TcpVerbsConfig config = TcpVerbsConfig.defaults().withTimeoutMillis(20_000);
        TcpVerbs a = TcpVerbs.connect(addresses, config);
        TcpVerbs b = TcpVerbs.connect(addresses, config.withConnectionsPerNode(2));
        return new Fixture() {
            @Override
            public Verbs client(int i) {
                return i == 0 ? a : b;
            }

            @Override
            public void close() {
                a.close();
                b.close();
                for (FrameServer s : servers) {
                    assertEquals(0, s.internalErrors(), "internal errors on a verb server");
                    s.close();
                }
                nodes.forEach(MemoryNode::close);
            }
        };
    }
}
