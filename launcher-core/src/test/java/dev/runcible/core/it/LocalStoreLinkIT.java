package dev.runcible.core.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A cold layer from a local store on the cache's filesystem: linked when only root can write it, else copied. */
class LocalStoreLinkIT {
    private static RealNode node;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    private static Path onlyLayer(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir.resolve("layers"))) {
            return files.filter(p -> p.toString().endsWith(".sqsh")).findFirst().orElseThrow();
        }
    }

    private static Object inode(Path file) throws Exception {
        return Files.getAttribute(file, "unix:ino");
    }

    /** The store's layer file and the cache's, after one launch from a fresh cache with the store file's mode. */
    private record Cold(Path stored, Path cached) {
    }

    private static Cold launchCold(String name, String layerMode) throws Exception {
        Path store = node.base.resolve(name + "-store");
        RealNode.copyTree(node.store, store);
        Path stored = onlyLayer(store);
        Files.setPosixFilePermissions(stored, PosixFilePermissions.fromString(layerMode));
        Path config = node.configFile(name, Map.of("local.root", store.toString(), "squashfs.cache.dir",
                node.base.resolve(name + "-cache").toString()));
        Cli run = Cli.run(config, "run", "--rm", RealNode.IMAGE, "--", "echo", "from " + name);
        assertThat(run.out()).as(run.err()).isEqualTo("from " + name + "\n");
        node.assertNothingLeftRunning();
        return new Cold(stored, node.base.resolve(name + "-cache/layers").resolve(stored.getFileName()));
    }

    @Test
    void aRootOwnedLayerNoOneElseMayWriteIsLinkedIntoTheCacheAndKeepsItsMode() throws Exception {
        Cold linked = launchCold("linked", "rw-r--r--");
        assertThat(inode(linked.cached())).as("one file, two names").isEqualTo(inode(linked.stored()));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(linked.stored())))
                .isEqualTo("rw-r--r--");
    }

    @Test
    void aLayerOthersMayWriteIsCopiedReadOnly() throws Exception {
        Cold copied = launchCold("copied", "rw-rw-r--");
        assertThat(inode(copied.cached())).as("a copy of its own").isNotEqualTo(inode(copied.stored()));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(copied.cached())))
                .isEqualTo("r--r--r--");
        assertThat(Files.mismatch(copied.stored(), copied.cached())).isEqualTo(-1L);
    }
}
