package dev.runcible.core.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RunDirectoryTest {
    private final RunDirectory runDir = new RunDirectory(Path.of("/var/lib/runcible/run"));

    @Test
    void containerFilesStayInTheRunDirectory() {
        String id = "a".repeat(64);
        assertThat(runDir.container(id).dir()).isEqualTo(Path.of("/var/lib/runcible/run/containers/" + id));
        assertThat(runDir.container(id).rootfs().startsWith(runDir.root())).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", "../../etc", "/etc", "web-1", "abc", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "a/b"})
    void refusesAnythingButAnId(String id) {
        assertThatThrownBy(() -> runDir.container(id)).isInstanceOf(IllegalArgumentException.class);
    }
}
