package dev.runcible.core.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.jna.LastErrorException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.host.Commands;
import dev.runcible.core.host.MountTable;
import dev.runcible.core.it.RealNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loop mounts made by the system calls, on real loop devices and squashfs: what they bind, and what they free. */
class LoopMountIT {
    @TempDir
    Path dir;
    private Path target;

    @BeforeEach
    void requireRoot() throws IOException {
        RealNode.requirePrerequisites();
        assertThat(SystemMounts.unavailable()).as("libc through JNA loads here").isEmpty();
        target = Files.createDirectories(dir.resolve("mnt"));
    }

    @AfterEach
    void unmount() throws Exception {
        new Mounter().unmount(target);
    }

    private Path squashfs() throws IOException {
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Files.writeString(tree.resolve("hello"), "from the layer\n");
        Path file = dir.resolve("layer.sqsh");
        Commands.Result made = Commands.run(List.of("mksquashfs", tree.toString(), file.toString(), "-comp", "zstd",
                "-noappend", "-quiet", "-no-progress"), 60);
        assertThat(made.ok()).as(made.message()).isTrue();
        return file;
    }

    /** The loop devices whose backing file is {@code file}, by the kernel's account in /sys. */
    private static List<String> loopDevicesOf(Path file) throws IOException {
        List<String> devices = new ArrayList<>();
        try (Stream<Path> blocks = Files.list(Path.of("/sys/block"))) {
            for (Path block : blocks.filter(b -> b.getFileName().toString().startsWith("loop")).toList()) {
                Path backing = block.resolve("loop/backing_file");
                if (Files.exists(backing) && Files.readString(backing).strip().equals(file.toString())) {
                    devices.add(block.getFileName().toString());
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            // a device went away while listed
        }
        return devices;
    }

    @Test
    void aLayerIsBoundReadOnlyAndAutoclearAndItsDeviceGoesWithItsMount() throws Exception {
        Path file = squashfs();
        SystemMounts.mountLoop(file.toString(), target.toString(), SystemMounts.MS_NOSUID | SystemMounts.MS_NODEV);

        assertThat(Files.readString(target.resolve("hello"))).isEqualTo("from the layer\n");
        Optional<MountTable.Mount> mount = MountTable.under(dir).stream()
                .filter(m -> m.mountPoint().equals(target.toString())).findFirst();
        assertThat(mount).isPresent();
        assertThat(mount.get().fsType()).isEqualTo("squashfs");
        assertThat(mount.get().source()).startsWith("/dev/loop");
        List<String> devices = loopDevicesOf(file);
        assertThat(devices).hasSize(1);
        assertThat("/dev/" + devices.get(0)).isEqualTo(mount.get().source());
        Path sys = Path.of("/sys/block", devices.get(0));
        assertThat(Files.readString(sys.resolve("ro")).strip()).as("read-only device").isEqualTo("1");
        assertThat(Files.readString(sys.resolve("loop/autoclear")).strip()).isEqualTo("1");
        Commands.Result options = Commands.run(List.of("findmnt", "-n", "-o", "OPTIONS", target.toString()), 10);
        assertThat(options.stdout()).contains("ro").contains("nosuid").contains("nodev");

        new Mounter().unmount(target);
        assertThat(MountTable.isMounted(target)).isFalse();
        assertThat(loopDevicesOf(file)).as("autoclear freed the device with its mount").isEmpty();
    }

    @Test
    void aFileThatIsNoSquashfsFailsAndLeavesNoLoopDevice() throws Exception {
        Path bogus = Files.write(dir.resolve("bogus.sqsh"), new byte[64 * 1024]);
        assertThatThrownBy(() -> SystemMounts.mountLoop(bogus.toString(), target.toString(), 0))
                .isInstanceOf(LastErrorException.class);
        assertThat(loopDevicesOf(bogus)).isEmpty();
        assertThatThrownBy(() -> new Mounter().mountSquashfs(bogus, target))
                .isInstanceOf(ContainerRuntimeException.class)
                .hasMessageContaining("Cannot mount squashfs layer " + bogus);
        assertThat(MountTable.isMounted(target)).isFalse();
        assertThat(loopDevicesOf(bogus)).as("neither the call nor the program's fallback").isEmpty();
    }

    @Test
    void aLayerThatNeverMountsLeavesNoMountPointWhateverKeepSays() throws Exception {
        Path bogus = Files.write(dir.resolve("bogus.sqsh"), new byte[64 * 1024]);
        Path layers = Files.createDirectories(dir.resolve("layers"));
        LayerMounts mounts = new LayerMounts(layers, new Mounter(), null);
        dev.runcible.api.Digest digest = dev.runcible.api.Digest.of(bogus);
        dev.runcible.api.OciResource resource = new dev.runcible.api.OciResource(digest,
                "application/vnd.oci.image.layer.v1.tar", dev.runcible.api.OciResource.Kind.LAYER,
                dev.runcible.api.OciResource.Format.SQUASHFS, bogus.toUri(), Optional.empty(),
                java.util.OptionalLong.empty());
        assertThatThrownBy(() -> mounts.acquire(List.of(new dev.runcible.api.LocalizedResource(resource, bogus))))
                .isInstanceOf(ContainerRuntimeException.class).hasMessageContaining(bogus.toString());
        try (Stream<Path> left = Files.list(layers)) {
            assertThat(left.toList()).as("no mount point left for the next launch to trip on").isEmpty();
        }
        assertThat(loopDevicesOf(bogus)).isEmpty();
    }

    @Test
    void aMissingFileIsNamedAndNothingIsBound() {
        Path missing = dir.resolve("missing.sqsh");
        assertThatThrownBy(() -> new Mounter().mountSquashfs(missing, target))
                .isInstanceOf(ContainerRuntimeException.class)
                .hasMessageContaining(missing.toString());
    }
}
