package io.dmtree.workloads.netbench;

import io.dmtree.cn.carrier.tcp.TcpVerbs;
import io.dmtree.cn.carrier.tcp.WireStats;
import io.dmtree.cn.control.ClusterClient;
import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A READ of {@code bytes} through the real {@code tcp} carrier: an in-process memory node
 * ({@link MemoryNodeServer}, tcp transport, loopback) joined by a compute node through
 * {@link ClusterClient}, exactly as {@code dmtree cn} joins one. Thread {@code t} reads its own
 * slot, which holds a pattern written before the run, so {@link Client#verify()} can check it.
 */
final class CarrierRead implements RoundTrips {
    private static final String CARRIER = "tcp";
    private final int bytes;
    private final Path dir;
    private final MemoryNodeServer memoryNode;
    private final ClusterClient client;
    private final long slotBytes;
    private final int slots;
    private final List<Client> clients = new ArrayList<>();
    private final boolean tls;

    CarrierRead(int bytes, int threads, CarrierOptions carrierOptions, int timeoutMillis) throws IOException {
        this(bytes, threads, carrierOptions, timeoutMillis, null);
    }

    /** ... with both sides holding {@code secret} (null: none); its TLS key material, if any, wraps every connection. */
    CarrierRead(int bytes, int threads, CarrierOptions carrierOptions, int timeoutMillis, io.dmtree.core.wire.ClusterSecret secret)
            throws IOException {
        this.bytes = bytes;
        this.tls = secret != null && secret.tls() != null;
        this.slotBytes = (bytes + 63L) & ~63L;
        this.slots = threads;
        long chunk = 1L << 20;
        long lockTable = 64L << 10;
        long region = MemoryNodeConfig.regionBytesFor((slotBytes * threads + chunk - 1) / chunk, chunk, lockTable);
        MemoryNodeConfig config = new MemoryNodeConfig(region, chunk, lockTable);
        this.dir = Files.createTempDirectory("dmtree-netbench");
        MemoryNodeServer mn = null;
        ClusterClient cn = null;
        try {
            mn = MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0), config, CARRIER, dir)
                    .withSecret(secret));
            cn = ClusterClient.join(ClusterClient.Options.of(List.of(mn.address())).withTimeoutMillis(timeoutMillis)
                    .withMessaging(new InetSocketAddress("127.0.0.1", 0), "127.0.0.1").withCarrierOptions(carrierOptions)
                    .withSecret(secret));
            if (!cn.transport().equals(CARRIER)) {
                throw new IllegalStateException("the memory node serves " + cn.transport() + ", not " + CARRIER);
            }
        } catch (RuntimeException e) {
            if (cn != null) {
                cn.close();
            }
            if (mn != null) {
                mn.close();
            }
            deleteDir();
            throw e;
        }
        this.memoryNode = mn;
        this.client = cn;
        long base = config.chunkAreaOffset();
        UnsafeBuffer pattern = new UnsafeBuffer(new byte[bytes]);
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < bytes; i++) {
                pattern.putByte(i, pattern(t, i));
            }
            client.verbs().write(slot(t, base), pattern, 0, bytes);
        }
    }

    private long slot(int t, long base) {
        return GlobalAddress.of(0, base + t * slotBytes);
    }

    private static byte pattern(int t, int i) {
        return (byte) (i * 17 + t * 5 + 3);
    }

    @Override
    public String name() {
        return tls ? "tls_read" : "tcp_read";
    }

    @Override
    public String description() {
        return "READ of " + bytes + " B through the tcp carrier" + (tls ? " under TLS 1.3" : "")
                + " (in-process memory node, loopback)";
    }

    /** The compute node's counted verbs: round trips per READ come from their counters. */
    Verbs verbs() {
        return client.verbs();
    }

    /** The tcp connections' wire counters so far. */
    WireStats wireStats() {
        return ((TcpVerbs) client.verbs().carrierVerbs()).wireStats();
    }

    @Override
    public synchronized RoundTrips.Client client(int t) {
        if (t >= slots) {
            throw new IllegalArgumentException("thread " + t + " has no slot; the memory node was sized for " + slots);
        }
        while (clients.size() <= t) {
            clients.add(new Client(clients.size()));
        }
        return clients.get(t);
    }

    private final class Client implements RoundTrips.Client {
        private final int thread;
        private final long address;
        private final Verbs verbs = client.verbs();
        private final UnsafeBuffer dst = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(bytes));

        Client(int thread) {
            this.thread = thread;
            this.address = slot(thread, memoryNode.memoryNode().config().chunkAreaOffset());
        }

        @Override
        public void once() {
            verbs.read(address, dst, 0, bytes);
        }

        @Override
        public void verify() throws IOException {
            for (int i = 0; i < bytes; i++) {
                if (dst.getByte(i) != pattern(thread, i)) {
                    throw new IOException("READ of thread " + thread + " brought back a wrong byte at " + i);
                }
            }
            dst.setMemory(0, bytes, (byte) 0);
        }
    }

    @Override
    public synchronized void close() {
        try {
            client.close();
        } finally {
            memoryNode.close();
            deleteDir();
        }
    }

    private void deleteDir() {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory; nothing else to do
        }
    }
}
