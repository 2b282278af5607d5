package dev.runcible.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.InvalidImageException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UserResolverTest {
    @TempDir
    Path rootfs;

    @BeforeEach
    void writeAccounts() throws Exception {
        Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(rootfs.resolve("etc/passwd"), """
                root:x:0:0:root:/root:/bin/sh
                app:x:1000:1001:App:/home/app:/bin/sh
                """);
        Files.writeString(rootfs.resolve("etc/group"), """
                root:x:0:
                app:x:1001:
                staff:x:50:app,other
                docker:x:999:app
                """);
    }

    @Test
    void resolvesNamesAndGroupsFromTheImage() throws Exception {
        assertThat(UserResolver.resolve(rootfs, Optional.of("app")))
                .isEqualTo(new UserIds(1000, 1001, List.of(50, 999), "/home/app"));
        assertThat(UserResolver.resolve(rootfs, Optional.of("app:staff")))
                .isEqualTo(new UserIds(1000, 50, List.of(999), "/home/app"));
        assertThat(UserResolver.resolve(rootfs, Optional.of("1000"))).isEqualTo(
                new UserIds(1000, 1001, List.of(50, 999), "/home/app"));
        assertThat(UserResolver.resolve(rootfs, Optional.of("4242:77")))
                .isEqualTo(new UserIds(4242, 77, List.of(), "/"));
        assertThat(UserResolver.resolve(rootfs, Optional.empty())).isEqualTo(UserIds.ROOT);
    }

    @Test
    void unknownNamesAreImageErrors() {
        assertThatThrownBy(() -> UserResolver.resolve(rootfs, Optional.of("nobody")))
                .isInstanceOf(InvalidImageException.class).hasMessageContaining("User 'nobody'");
        assertThatThrownBy(() -> UserResolver.resolve(rootfs, Optional.of("app:wheel")))
                .isInstanceOf(InvalidImageException.class).hasMessageContaining("Group 'wheel'");
        assertThatThrownBy(() -> UserResolver.resolve(rootfs, Optional.of("99999999999")))
                .isInstanceOf(InvalidImageException.class).hasMessageContaining("99999999999");
    }

    @Test
    void refusesToFollowASymlinkedPasswdOutOfTheImage() throws Exception {
        Files.delete(rootfs.resolve("etc/passwd"));
        Files.createSymbolicLink(rootfs.resolve("etc/passwd"), Path.of("/etc/passwd"));
        assertThatThrownBy(() -> UserResolver.resolve(rootfs, Optional.of("root")))
                .isInstanceOf(InvalidImageException.class).hasMessageContaining("symbolic link");
    }

    @Test
    void readsAtMostFourMibOfPasswd() throws Exception {
        try (java.io.RandomAccessFile passwd = new java.io.RandomAccessFile(rootfs.resolve("etc/passwd").toFile(),
                "rw")) {
            passwd.setLength(3L << 30); // sparse: three gigabytes of nothing
        }
        assertThatThrownBy(() -> UserResolver.resolve(rootfs, Optional.of("root")))
                .isInstanceOf(InvalidImageException.class).hasMessageContaining("/etc/passwd is " + (3L << 30)
                        + " bytes, above the " + UserResolver.MAX_FILE_BYTES + " bytes read");
    }
}
