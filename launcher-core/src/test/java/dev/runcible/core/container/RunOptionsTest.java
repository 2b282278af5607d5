package dev.runcible.core.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.core.InvalidRequestException;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunOptionsTest {
    @Test
    void cgroupParentsAreRelativePathsOfPlainNames() {
        for (String good : List.of("runcible", "storm/workers", "a_b.c-d/e")) {
            assertThatCode(() -> RunOptions.NONE.withCgroupParent(good).check()).as(good).doesNotThrowAnyException();
        }
        for (String bad : List.of("/runcible", "..", "a/../b", "a/./b", "a//b", "a/", "", ".hidden", "a b", "a,b")) {
            assertThatThrownBy(() -> RunOptions.NONE.withCgroupParent(bad).check()).as(bad)
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("--cgroup-parent");
        }
    }

    @Test
    void workdirMustBeAbsoluteAndClean() {
        assertThatCode(() -> RunOptions.NONE.withWorkdir("/srv/app").check()).doesNotThrowAnyException();
        for (String bad : List.of("srv", "/srv/../etc", "")) {
            assertThatThrownBy(() -> RunOptions.NONE.withWorkdir(bad).check()).as(bad)
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("--workdir");
        }
    }

    @Test
    void groupAddTakesNumericGids() throws Exception {
        assertThat(RunOptions.parseGids(List.of("27", "100"))).containsExactly(27, 100);
        for (String bad : List.of("wheel", "-1", "2147483647", "1.5")) {
            assertThatThrownBy(() -> RunOptions.parseGids(List.of(bad))).as(bad)
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining(bad);
        }
    }
}
