package io.dmtree.cn.carrier;

import io.dmtree.cn.shm.ShmVerbs;
import io.dmtree.core.memory.Verbs;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.shm.SharedRegionFile;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The {@code shm} carrier against the shared verb semantics: two region files, each mapped
 * separately by the memory node and by both clients, in segments of 64 KiB so that wide reads and
 * writes cross segment boundaries (as they do every GiB in a large region).
 */
class ShmVerbsContractTest extends VerbSemanticsContract {
    private static final int SEGMENT_SHIFT = 16;

    @TempDir
    Path dir;

    @Override
    protected Fixture start() throws Exception {
        List<SharedRegionFile> files = new ArrayList<>();
        List<MemoryNode> nodes = new ArrayList<>();
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Path p = dir.resolve("mn" + i + ".region");
            SharedRegionFile f = SharedRegionFile.create(p, CONFIG.regionBytes(), SEGMENT_SHIFT);
            files.add(f);
            nodes.add(new MemoryNode(i, CONFIG, f.region()));
            paths.add(p);
        }
        List<Long> sizes = List.of(CONFIG.regionBytes(), CONFIG.regionBytes());
        ShmVerbs a = ShmVerbs.map(paths, sizes, SEGMENT_SHIFT);
        ShmVerbs b = ShmVerbs.map(paths, sizes, SEGMENT_SHIFT + 1);
        return new Fixture() {
            @Override
            public Verbs client(int i) {
                return i == 0 ? a : b;
            }

            @Override
            public void close() {
                a.close();
                b.close();
                files.forEach(SharedRegionFile::close);
                for (Path p : paths) {
                    assertFalse(Files.exists(p), "the creator deletes its region file");
                }
            }
        };
    }
}
