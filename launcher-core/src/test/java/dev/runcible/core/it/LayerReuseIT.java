package dev.runcible.core.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.core.host.MountTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Layers reused across launches: an idle layer mount kept for the next launch (the default), and a cold layer from a
 * local store on the cache's filesystem linked into the cache when only root can write it, else copied.
 */
class LayerReuseIT {
    private static RealNode node;
    private static Path config;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
        config = node.configFile("keep-none", Map.of());
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    private static List<String> layerMounts() throws Exception {
        return MountTable.under(node.runDir.resolve("layers")).stream().filter(m -> m.fsType().equals("squashfs"))
                .map(m -> m.mountPoint() + " " + m.source()).sorted().toList();
    }

    @Test
    void byDefaultAnIdleLayerMountServesTheNextLaunchAndGcTrimsItToTheConfiguredKeep() throws Exception {
        Path defaults = node.configFile("default-keep", Map.of());
        Files.writeString(defaults, Files.readString(defaults).replace("runcible.layer-mounts.keep=0\n", ""));
        assertThat(Files.readString(defaults)).doesNotContain("layer-mounts");
        Cli first = Cli.run(defaults, "run", "--rm", RealNode.IMAGE, "--", "echo", "first");
        assertThat(first.out()).as(first.err()).isEqualTo("first\n");
        List<String> kept = layerMounts();
        assertThat(kept).as("the layer stays mounted once its last container is gone").isNotEmpty();
        Cli second = Cli.run(defaults, "run", "--rm", RealNode.IMAGE, "--", "echo", "second");
        assertThat(second.out()).as(second.err()).isEqualTo("second\n");
        assertThat(layerMounts()).as("the same mounts, on the same loop devices").isEqualTo(kept);
        assertThat(Cli.run(defaults, "gc").exitCode()).isZero();
        assertThat(layerMounts()).as("gc keeps up to 100 idle mounts").isEqualTo(kept);
        assertThat(Cli.run(config, "gc").exitCode()).isZero();
        assertThat(layerMounts()).as("gc with runcible.layer-mounts.keep=0").isEmpty();
        node.assertNothingLeftRunning();
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
