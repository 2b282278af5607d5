package dev.runcible.core.mount;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.api.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A layer file is hashed again after any change that could alter what the kernel reads, and only then. */
class VerifiedLayersTest {
    @TempDir
    Path dir;

    private VerifiedLayers recorded(Path file) throws Exception {
        VerifiedLayers verified = new VerifiedLayers(Files.createDirectories(dir.resolve("layers")));
        verified.record(Digest.of(file), file, VerifiedLayers.identity(file));
        Thread.sleep(20); // file times move in clock ticks: a change below comes a tick later
        return verified;
    }

    /** As a mount asks: with the file's identity now. */
    private static boolean unchanged(VerifiedLayers verified, Path file, Digest digest) {
        return verified.unchanged(file, digest, VerifiedLayers.identity(file));
    }

    private Path layer(String content) throws Exception {
        Path cache = Files.createDirectories(dir.resolve("cache"));
        return Files.writeString(cache.resolve("layer.sqsh"), content);
    }

    @Test
    void anUntouchedFileNeedsNoSecondHash() throws Exception {
        Path file = layer("squashfs bytes");
        VerifiedLayers verified = recorded(file);
        assertThat(unchanged(verified, file, Digest.of(file))).isTrue();
        assertThat(unchanged(new VerifiedLayers(dir.resolve("layers")), file, Digest.of(file)))
                .as("the record outlives the process").isTrue();
    }

    @Test
    void aWriteOfTheSameSizeIsSeen() throws Exception {
        Path file = layer("squashfs bytes");
        Digest digest = Digest.of(file);
        VerifiedLayers verified = recorded(file);
        Files.writeString(file, "squashfs BYTES");
        assertThat(unchanged(verified, file, digest)).isFalse();
    }

    @Test
    void aPermissionChangeIsSeenThroughTheStatusChangeTime() throws Exception {
        Path file = layer("squashfs bytes");
        VerifiedLayers verified = recorded(file);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertThat(unchanged(verified, file, Digest.of(file))).isFalse();
    }

    @Test
    void aReplacedFileIsAnotherFileEvenWithTheSameBytes() throws Exception {
        Path file = layer("squashfs bytes");
        VerifiedLayers verified = recorded(file);
        Path copy = Files.writeString(dir.resolve("copy"), "squashfs bytes");
        Files.move(copy, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        assertThat(unchanged(verified, file, Digest.of(file))).isFalse();
    }

    @Test
    void anotherExpectedDigestOrAForgottenRecordIsNoMatch() throws Exception {
        Path file = layer("squashfs bytes");
        VerifiedLayers verified = recorded(file);
        assertThat(unchanged(verified, file, Digest.of(layerElsewhere()))).isFalse();
        verified.forget(Digest.of(file));
        assertThat(unchanged(verified, file, Digest.of(file))).isFalse();
        verified.record(Digest.of(file), file, Optional.empty());
        assertThat(unchanged(verified, file, Digest.of(file))).as("no identity, no record").isFalse();
        assertThat(verified.unchanged(file, Digest.of(file), Optional.empty())).as("no identity now").isFalse();
    }

    @Test
    void pruningDropsRecordsOfFilesNoLongerCached() throws Exception {
        Path file = layer("squashfs bytes");
        Digest digest = Digest.of(file);
        VerifiedLayers verified = recorded(file);
        assertThat(verified.prune()).isZero();
        Files.delete(file);
        assertThat(verified.prune()).isEqualTo(1);
        assertThat(dir.resolve("layers").resolve(digest.hex() + ".verified")).doesNotExist();
    }

    private Path layerElsewhere() throws Exception {
        return Files.writeString(dir.resolve("other"), "other bytes");
    }
}
