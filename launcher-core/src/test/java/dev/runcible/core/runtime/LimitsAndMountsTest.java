package dev.runcible.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.core.InvalidRequestException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LimitsAndMountsTest {
    @Test
    void cpuPercentBecomesACfsQuota() throws Exception {
        Limits limits = Limits.parse("1g", 150, 100L);
        assertThat(limits.cpuQuotaMicros().getAsLong()).isEqualTo(150_000);
        assertThat(limits.memoryBytes().getAsLong()).isEqualTo(1L << 30);
        assertThat(limits.pids().getAsLong()).isEqualTo(100);
        assertThat(Limits.parse(null, null, null)).isEqualTo(Limits.NONE);
    }

    @ParameterizedTest(name = "[{index}] memory={0} cpu={1} pids={2}")
    @CsvSource(delimiter = '|', nullValues = "null", value = {
            "12x|null|null|Invalid --memory value '12x'",
            "-5m|null|null|Invalid --memory value '-5m'",
            "1k|null|null|the minimum is 6m",
            "null|0|null|Invalid --cpu value '0'",
            "null|200000|null|Invalid --cpu value '200000'",
            "null|null|0|Invalid --pids value '0'",
    })
    void rejectsBadLimits(String memory, Integer cpu, Long pids, String message) {
        assertThatThrownBy(() -> Limits.parse(memory, cpu, pids)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining(message);
    }

    @Test
    void parsesMounts() throws Exception {
        assertThat(BindMount.parse("/data:/mnt")).isEqualTo(new BindMount(Path.of("/data"), "/mnt", false));
        assertThat(BindMount.parse("/data/:/mnt/x/:ro")).isEqualTo(new BindMount(Path.of("/data"), "/mnt/x", true));
        assertThat(BindMount.parse("/a:/b:rw").readOnly()).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/data|SOURCE:DESTINATION", "/a:/b:/c:ro|SOURCE:DESTINATION", "data:/mnt|absolute",
            "/data:mnt|absolute", "/data:/mnt:rx|mode 'rx'", "/data:/mnt/../etc|'..'", "/data:/a,b|','"})
    void rejectsBadMounts(String text, String why) {
        assertThatThrownBy(() -> BindMount.parse(text)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("Invalid --mount '" + text + "'").hasMessageContaining(why);
    }
}
