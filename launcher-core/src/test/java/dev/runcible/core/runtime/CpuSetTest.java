package dev.runcible.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.core.InvalidRequestException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CpuSetTest {
    @Test
    void listsWithinTheOnlineSetsAreKept() throws Exception {
        CpuSet set = CpuSet.parse("0-3,8", "1", "0-15\n", "0-1\n");
        assertThat(set.cpus()).contains("0-3,8");
        assertThat(set.mems()).contains("1");
        assertThat(CpuSet.parse(null, null, "0", "0")).isEqualTo(CpuSet.NONE);
        assertThat(CpuSet.parse("2", null, "0-1,2", "0").mems()).isEqualTo(Optional.empty());
    }

    @Test
    void aCpuOrNodeTheNodeLacksIsNamed() {
        assertThatThrownBy(() -> CpuSet.parse("0-4", null, "0-3", "0"))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("--cpuset-cpus '0-4'").hasMessageContaining("CPU 4 is not online")
                .hasMessageContaining("online: 0-3");
        assertThatThrownBy(() -> CpuSet.parse(null, "1", "0-3", "0"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("memory node 1");
    }

    @Test
    void malformedListsAreRefused() {
        for (String bad : new String[] {"", "a", "3-1", "1,,2", "-1", "1-", "99999999", "0 1", "1;2"}) {
            assertThatThrownBy(() -> CpuSet.parse(bad, null, "0-99999", "0")).as(bad)
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("--cpuset-cpus");
        }
    }
}
