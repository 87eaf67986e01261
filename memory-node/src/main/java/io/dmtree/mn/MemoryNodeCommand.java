package io.dmtree.mn;

import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ConnectionLimits;
import io.dmtree.core.wire.HostPort;
import io.dmtree.mn.carrier.rdma.RdmaCarrierServer;
import io.dmtree.mn.carrier.shm.RegionFiles;
import io.dmtree.core.membership.MembershipOptions;
import io.dmtree.mn.control.Coordination;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code dmtree mn}: runs one memory node until SIGTERM or SIGINT, then stops cleanly (compute
 * nodes are told, the shm file and the id lock are removed). Prints one ready line when serving.
 * Membership: memory node 0 runs a ZooKeeper server of its own unless given {@code --zk}; every
 * other memory node needs {@code --zk} (memory node 0's {@code zk=} address, an ensemble, or
 * {@code none}) and refuses to start without it (exit code 2). With {@code --data DIR} the region
 * is durable ({@link io.dmtree.mn.durable.DurableRegionFile}) and a start on a directory that holds
 * one restores it, printing what it found before the ready line.
 */
@Command(name = "mn", mixinStandardHelpOptions = true,
        description = "Run a memory node: it owns a region of memory and serves the control plane; "
                + "compute nodes reach the region through the chosen transport.")
public final class MemoryNodeCommand implements Callable<Integer> {
    @Option(names = "--id", defaultValue = "0", description = "Memory-node id; memory node 0 coordinates (default ${DEFAULT-VALUE}).")
    int id;

    @Option(names = "--listen", defaultValue = "127.0.0.1:7000",
            description = "Control-plane (and tcp verb) address to bind, HOST:PORT; 0.0.0.0 binds every interface, port 0 "
                    + "picks a free one (default ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--advertise", description = "The host compute nodes reach this memory node by (default: the --listen "
            + "host; for 0.0.0.0, the address each compute node used to reach it).")
    String advertise;

    @Option(names = "--memory", defaultValue = "1G", description = "Region size, e.g. 512M, 4G (default ${DEFAULT-VALUE}).")
    String memory;

    @Option(names = "--chunk", defaultValue = "8M", description = "Chunk size handed to compute nodes (default ${DEFAULT-VALUE}).")
    String chunk;

    @Option(names = "--lock-table", defaultValue = "4M", description = "Bytes reserved for lock state (default ${DEFAULT-VALUE}).")
    String lockTable;

    @Option(names = "--transport", defaultValue = "tcp", description = "local, shm, tcp or rdma (default ${DEFAULT-VALUE}).")
    String transport;

    @Option(names = "--dir", defaultValue = "/dev/shm",
            description = "Directory of the id lock and the shm region file (default ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Keep the region in a file in DIR (dmtree-mnID.data, memory-mapped) and restart from it: a "
                    + "durable region. Every store survives the process being killed; a host crash keeps what was forced "
                    + "(the header at start and per chunk, everything at a clean stop). Memory node 0's own ZooKeeper keeps "
                    + "its data in DIR too. A directory of another memory node, region size or cluster is refused.")
    Path data;

    @Option(names = "--rdma-listen", description = "RDMA address HOST:PORT (default: the --listen host, port + 1).")
    String rdmaListen;

    @Option(names = "--max-frame", defaultValue = "16M", description = "Largest frame accepted (default ${DEFAULT-VALUE}).")
    String maxFrame;

    @Option(names = "--event-loops", defaultValue = "1", paramLabel = "N",
            description = "Event-loop threads of the front door; tcp verbs run on them (default ${DEFAULT-VALUE}).")
    int eventLoops;

    @Option(names = "--blocking-workers", defaultValue = "8", paramLabel = "N",
            description = "Most threads for control-plane requests, started on demand (default ${DEFAULT-VALUE}).")
    int blockingWorkers;

    @Option(names = "--max-connections", defaultValue = "4096", paramLabel = "N",
            description = "Open connections beyond this get an error reply and are closed (default ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--hello-timeout", defaultValue = "5s", paramLabel = "DURATION",
            description = "A connection that has not said HELLO within this is closed (default ${DEFAULT-VALUE}).")
    String helloTimeout;

    @Option(names = "--idle-timeout", defaultValue = "15m", paramLabel = "DURATION",
            description = "A connection with no frame and no request in progress for this long is closed; joined "
                    + "compute nodes' control connections are spared; 0: never (default ${DEFAULT-VALUE}).")
    String idleTimeout;

    @Option(names = "--hello-buffer", defaultValue = "4K", paramLabel = "SIZE",
            description = "Receive buffer of a connection before HELLO, and its largest frame (default ${DEFAULT-VALUE}).")
    String helloBuffer;

    @Option(names = "--session-buffer", defaultValue = "16K", paramLabel = "SIZE",
            description = "Receive buffer after HELLO; larger frames grow it and it shrinks back (default ${DEFAULT-VALUE}).")
    String sessionBuffer;

    @Option(names = "--receive-budget", defaultValue = "0", paramLabel = "SIZE",
            description = "Most bytes all connections hold beyond their session buffers for large frames; it must hold "
                    + "one --max-frame; 0: four --max-frame (default ${DEFAULT-VALUE}).")
    String receiveBudget;

    @Option(names = "--control-max-frame", paramLabel = "SIZE",
            description = "Largest control-plane frame (default: the largest control request, 1M of barrier payload and a "
                    + "little more).")
    String controlMaxFrame;

    @Option(names = "--keepalive", defaultValue = "60s", paramLabel = "DURATION",
            description = "TCP keepalive idle time that finds half-open connections; 0: the kernel's (default ${DEFAULT-VALUE}).")
    String keepAlive;

    @Option(names = "--carrier-option", paramLabel = "KEY=VALUE",
            description = "A carrier setting, repeatable (e.g. shm.segment-shift=30).")
    java.util.List<String> carrierOptions = new java.util.ArrayList<>();

    @Option(names = "--zk", paramLabel = "CONNECT|none",
            description = "The cluster's ZooKeeper, HOST:PORT[,HOST:PORT...][/ROOT], for membership, leases and fencing; "
                    + "none: a cluster without membership. Default: memory node 0 runs a ZooKeeper server in its own "
                    + "process (see --zk-listen) and prints its address as zk=HOST:PORT in its ready line; other memory "
                    + "nodes must be given it.")
    String zk;

    @Option(names = "--zk-listen", paramLabel = "HOST:PORT",
            description = "Where memory node 0's own ZooKeeper binds (default: the --listen host, its port + 2).")
    String zkListen;

    @Option(names = "--lease", paramLabel = "DURATION",
            description = "Lease length of the cluster's members; memory node 0 writes it into the cluster configuration "
                    + "and compute nodes join with it (default " + MembershipOptions.DEFAULT_PROCESS_LEASE_MILLIS + "ms).")
    String lease;

    @Option(names = "--secret", paramLabel = "FILE|none",
            description = "The cluster secret: every compute node and memory node that connects must prove it (HMAC "
                    + "challenge-response, both ways). FILE: read it (readable by its owner only). none: admit everyone. "
                    + "Default: memory node 0 reads --dir/dmtree-cluster.secret, or generates it there (mode 600, removed "
                    + "when it stops; with --data it lives and stays in the data directory) and prints secret=PATH in its ready line; other memory nodes must be given it.")
    String secret;

    @Option(names = "--tls", paramLabel = "KEYSTORE",
            description = "Run every control, tcp-verbs and messaging connection in TLS 1.3 with this PKCS12 keystore (one "
                    + "private key and its certificate; peers must present a certificate it trusts: by default its own, "
                    + "so members sharing one self-signed cluster key pair trust each other). Needs --tls-password and "
                    + "the cluster secret. shm and local need none; rdma has no TLS.")
    String tls;

    @Option(names = "--tls-password", paramLabel = "FILE",
            description = "The file holding the --tls keystore's password (first line; readable by its owner only).")
    String tlsPassword;

    @Option(names = "--tls-trust", paramLabel = "TRUSTSTORE",
            description = "A PKCS12 truststore (same password) whose certificates are the only TLS anchors, e.g. the "
                    + "cluster's certificate authority; default: the --tls keystore's own certificate.")
    String tlsTrust;

    @Option(names = "--clean", description = "Remove what crashed memory nodes and compute nodes left in --dir (region files, "
            + "locks, memory node 0's ZooKeeper data, inboxes of processes that are gone), print each, and exit; files of live processes stay.")
    boolean clean;

    private final CountDownLatch stopped = new CountDownLatch(1);

    public static void main(String[] args) {
        System.exit(new CommandLine(new MemoryNodeCommand()).execute(args));
    }

    @Override
    public Integer call() {
        PrintWriter err = new PrintWriter(System.err, true);
        if (clean) {
            return clean(err);
        }
        MemoryNodeOptions options;
        try {
            long frame = ByteSize.parse(maxFrame);
            if (frame > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("--max-frame must be below 2G: " + maxFrame);
            }
            MemoryNodeConfig config = new MemoryNodeConfig(ByteSize.parse(memory), ByteSize.parse(chunk), ByteSize.parse(lockTable));
            CarrierOptions carrier = CarrierOptions.parse(carrierOptions);
            if (rdmaListen != null) {
                HostPort.parse("--rdma-listen", rdmaListen);
                carrier = carrier.with(RdmaCarrierServer.LISTEN, rdmaListen);
            }
            int controlFrame = MemoryNodeOptions.DEFAULT_CONTROL_FRAME_BYTES;
            if (controlMaxFrame != null) {
                long c = ByteSize.parse(controlMaxFrame);
                if (c > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("--control-max-frame must be below 2G: " + controlMaxFrame);
                }
                controlFrame = (int) c;
            }
            InetSocketAddress bind = HostPort.parse("--listen", listen);
            options = new MemoryNodeOptions(id, bind, advertise, config, transport, dir,
                    (int) frame, carrier, limits(), controlFrame, coordination(bind)).withDataDir(data);
            secretSource = secret(options);
            io.dmtree.core.wire.ClusterTls t = io.dmtree.core.wire.ClusterTls.fromFlags(tls, tlsPassword, tlsTrust,
                    secretSource != null);
            options = options.withSecret(secretSource == null ? null : secretSource.secret().withTls(t));
        } catch (IllegalArgumentException e) {
            err.println("dmtree mn: " + e.getMessage());
            return 2;
        }
        MemoryNodeServer server;
        try {
            server = MemoryNodeServer.start(options);
        } catch (IllegalStateException e) {
            removeGeneratedSecret();
            err.println("dmtree mn: " + e.getMessage());
            return 1;
        }
        Thread hook = new Thread(() -> {
            server.close();
            removeGeneratedSecret();
            stopped.countDown();
        }, "dmtree-mn-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        String restored = server.restoreReport();
        if (!restored.isEmpty()) {
            System.out.println(restored);
        }
        String ready = server.readyLine();
        if (secretSource != null) {
            ready = ready.substring(0, ready.length() - " ready".length()) + " secret=" + secretSource.file() + " ready";
        }
        System.out.println(ready);
        System.out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.close();
        }
        return 0;
    }

    /**
     * Where the secret came from: its file, and whether this process generated it (and so removes it
     * at exit, unless the regions are durable: then it is kept in the data directory with them).
     */
    private record SecretSource(ClusterSecret secret, Path file, boolean generated) {
    }

    private SecretSource secretSource;

    /** What --secret asks for (null: none); a bad value is an {@link IllegalArgumentException} naming the flag. */
    private SecretSource secret(MemoryNodeOptions o) {
        if (secret != null && secret.trim().equalsIgnoreCase("none")) {
            return null;
        }
        if (secret != null) {
            Path file = Path.of(secret.trim()).toAbsolutePath();
            try {
                return new SecretSource(ClusterSecret.load(file), file, false);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--secret: " + e.getMessage(), e);
            }
        }
        if (id != 0) {
            throw new IllegalArgumentException("memory node " + id + " needs --secret: pass the cluster secret file memory "
                    + "node 0 wrote (its ready line prints it as secret=PATH), or --secret none for a cluster that admits "
                    + "everyone");
        }
        Path file = o.secretFile().toAbsolutePath();
        ClusterSecret.Loaded l = ClusterSecret.loadOrGenerate(file);
        return new SecretSource(l.secret(), file, l.created());
    }

    private void removeGeneratedSecret() {
        SecretSource s = secretSource;
        if (s != null && s.generated() && data == null) { // a durable cluster's secret stays with its regions
            try {
                java.nio.file.Files.deleteIfExists(s.file());
            } catch (java.io.IOException e) {
                System.err.println("dmtree mn: could not remove " + s.file() + ": " + e.getMessage());
            }
        }
    }

    /** What --zk, --zk-listen and --lease ask for; a bad value is an {@link IllegalArgumentException} naming its flag. */
    private Coordination coordination(InetSocketAddress bind) {
        Duration leaseLength = null;
        if (lease != null) {
            try {
                leaseLength = Duration.ofMillis(TimeSpan.parseMillis(lease));
                MembershipOptions.DEFAULTS.withLease(leaseLength);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--lease: " + e.getMessage(), e);
            }
        }
        if (zk != null && zk.trim().equalsIgnoreCase("none")) {
            if (zkListen != null || lease != null) {
                throw new IllegalArgumentException((zkListen != null ? "--zk-listen" : "--lease")
                        + " needs membership; it cannot go with --zk none");
            }
            return Coordination.none();
        }
        if (zk != null) {
            if (zkListen != null) {
                throw new IllegalArgumentException("--zk-listen is for memory node 0's own ZooKeeper; it cannot go with --zk");
            }
            try {
                return Coordination.zooKeeper(zk, leaseLength);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--zk: " + e.getMessage(), e);
            }
        }
        if (id != 0) {
            throw new IllegalArgumentException("memory node " + id + " needs --zk: pass memory node 0's ZooKeeper address "
                    + "(its ready line prints it as zk=HOST:PORT), or --zk none for a cluster without membership");
        }
        InetSocketAddress at;
        if (zkListen != null) {
            at = HostPort.parse("--zk-listen", zkListen);
        } else {
            int port = bind.getPort() == 0 ? 0 : bind.getPort() + 2;
            if (port > 65535) {
                throw new IllegalArgumentException("--listen port " + bind.getPort() + " leaves no port + 2 for ZooKeeper; "
                        + "give --zk-listen");
            }
            at = new InetSocketAddress(bind.getAddress(), port);
        }
        return Coordination.embedded(at, leaseLength);
    }

    /** The connection limits from the flags; a bad value is an {@link IllegalArgumentException} naming its flag. */
    private ConnectionLimits limits() {
        ConnectionLimits.Builder b = MemoryNodeOptions.DEFAULT_LIMITS.toBuilder();
        apply(b, "--event-loops", () -> b.eventLoops(eventLoops));
        apply(b, "--blocking-workers", () -> b.blockingWorkers(blockingWorkers));
        apply(b, "--max-connections", () -> b.maxConnections(maxConnections));
        apply(b, "--hello-timeout", () -> b.helloTimeoutMillis(TimeSpan.parseMillis(helloTimeout)));
        apply(b, "--idle-timeout", () -> b.idleTimeoutMillis(TimeSpan.parseMillis(idleTimeout)));
        apply(b, "--hello-buffer", () -> b.helloBufferBytes(intSize(helloBuffer)));
        apply(b, "--session-buffer", () -> b.sessionBufferBytes(intSize(sessionBuffer)));
        apply(b, "--receive-budget", () -> b.receiveBudgetBytes(ByteSize.parse(receiveBudget)));
        apply(b, "--keepalive", () -> {
            int ms = TimeSpan.parseMillis(keepAlive);
            if (ms % 1000 != 0) {
                throw new IllegalArgumentException("keepalive is set in whole seconds: " + keepAlive);
            }
            b.keepAliveSeconds(ms / 1000);
        });
        return b.build();
    }

    private static void apply(ConnectionLimits.Builder b, String flag, Runnable set) {
        try {
            set.run();
            b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
        }
    }

    private static int intSize(String text) {
        long n = ByteSize.parse(text);
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("size must be below 2G: " + text);
        }
        return (int) n;
    }

    private int clean(PrintWriter err) {
        try {
            java.util.List<Path> removed = RegionFiles.removeLeftovers(dir);
            for (Path p : removed) {
                System.out.println("removed " + p);
            }
            System.out.println("dmtree mn --clean: " + removed.size() + " file(s) removed from " + dir);
            return 0;
        } catch (java.io.IOException e) {
            err.println("dmtree mn --clean: cannot clean " + dir + ": " + e.getMessage());
            return 1;
        }
    }
}
