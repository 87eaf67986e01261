package io.dmtree.mn;

import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import io.dmtree.mn.control.Transport;
import io.dmtree.mn.tcp.HostPort;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code dmtree mn}: runs one memory node until SIGTERM or SIGINT, then stops cleanly (compute
 * nodes are told, the shm file and the id lock are removed). Prints one ready line when serving.
 */
@Command(name = "mn", mixinStandardHelpOptions = true,
        description = "Run a memory node: it owns a region of memory and serves the control plane; "
                + "compute nodes reach the region through the chosen transport.")
public final class MemoryNodeCommand implements Callable<Integer> {
    @Option(names = "--id", defaultValue = "0", description = "Memory-node id; memory node 0 coordinates (default ${DEFAULT-VALUE}).")
    int id;

    @Option(names = "--listen", defaultValue = "127.0.0.1:7000",
            description = "Control-plane (and tcp verb) address HOST:PORT; port 0 picks a free one (default ${DEFAULT-VALUE}).")
    String listen;

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

    @Option(names = "--rdma-listen", description = "RDMA address HOST:PORT (default: the --listen host, port + 1).")
    String rdmaListen;

    @Option(names = "--max-frame", defaultValue = "16M", description = "Largest frame accepted (default ${DEFAULT-VALUE}).")
    String maxFrame;

    private final CountDownLatch stopped = new CountDownLatch(1);

    public static void main(String[] args) {
        System.exit(new CommandLine(new MemoryNodeCommand()).execute(args));
    }

    @Override
    public Integer call() {
        PrintWriter err = new PrintWriter(System.err, true);
        MemoryNodeOptions options;
        try {
            long frame = ByteSize.parse(maxFrame);
            if (frame > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("--max-frame must be below 2G: " + maxFrame);
            }
            MemoryNodeConfig config = new MemoryNodeConfig(ByteSize.parse(memory), ByteSize.parse(chunk), ByteSize.parse(lockTable));
            options = new MemoryNodeOptions(id, HostPort.parse("--listen", listen), config, Transport.parse(transport), dir,
                    (int) frame, rdmaListen == null ? null : HostPort.parse("--rdma-listen", rdmaListen));
        } catch (IllegalArgumentException e) {
            err.println("dmtree mn: " + e.getMessage());
            return 2;
        }
        MemoryNodeServer server;
        try {
            server = MemoryNodeServer.start(options);
        } catch (IllegalStateException e) {
            err.println("dmtree mn: " + e.getMessage());
            return 1;
        }
        Thread hook = new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "dmtree-mn-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println(server.readyLine());
        System.out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.close();
        }
        return 0;
    }
}
