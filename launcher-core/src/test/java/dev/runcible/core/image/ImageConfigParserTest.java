package dev.runcible.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.Digest;
import dev.runcible.api.ImageConfig;
import dev.runcible.api.InvalidImageException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImageConfigParserTest {
    private static final Digest DIGEST = new Digest("sha256", "c".repeat(64));

    private static ImageConfig parse(String json) throws InvalidImageException {
        return ImageConfigParser.parse(DIGEST, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsEverythingAProcessStartsWith() throws Exception {
        ImageConfig config = parse("""
                {"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin","A=b=c"],
                 "Entrypoint":["/entry"],"Cmd":["run","--fast"],"WorkingDir":"/app","User":"app:staff",
                 "ExposedPorts":{"80/tcp":{}}},"rootfs":{"type":"layers","diff_ids":[]}}
                """);
        assertThat(config.env()).containsExactly("PATH=/bin", "A=b=c");
        assertThat(config.entrypoint()).containsExactly("/entry");
        assertThat(config.cmd()).containsExactly("run", "--fast");
        assertThat(config.workingDir()).contains("/app");
        assertThat(config.user()).contains("app:staff");
        assertThat(config.platform().orElseThrow().toString()).isEqualTo("linux/amd64");
    }

    @Test
    void treatsNullsAndAbsentFieldsAsEmpty() throws Exception {
        ImageConfig config = parse("{\"config\":{\"Env\":null,\"Cmd\":null,\"WorkingDir\":\"\",\"User\":\"\"}}");
        assertThat(config.env()).isEmpty();
        assertThat(config.cmd()).isEmpty();
        assertThat(config.workingDir()).isEmpty();
        assertThat(config.user()).isEmpty();
        assertThat(parse("{}").entrypoint()).isEmpty();
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @CsvSource(delimiter = '|', value = {
            "{|not valid JSON",
            "\"text\"|not a JSON object",
            "{\"config\":[]}|'config' that is not an object",
            "{\"config\":{\"Env\":\"A=b\"}}|'Env' that is not an array",
            "{\"config\":{\"Env\":[\"novalue\"]}}|Env entry 'novalue'",
            "{\"config\":{\"Env\":[\"=x\"]}}|Env entry '=x'",
            "{\"config\":{\"Cmd\":[1]}}|non-string item in 'Cmd'",
            "{\"config\":{\"WorkingDir\":5}}|'WorkingDir' that is not a string",
    })
    void rejectsMalformedConfigs(String json, String why) {
        assertThatThrownBy(() -> parse(json)).isInstanceOf(InvalidImageException.class)
                .hasMessageStartingWith("Image config " + DIGEST).hasMessageContaining(why);
    }

    @Test
    void importChangesFollowDockerfileSyntax() throws Exception {
        ImageChanges changes = ImageChanges.parse(java.util.List.of("ENV A=1", "env B 2", "WORKDIR /w",
                "USER 1000:1000", "CMD [\"sh\", \"-c\", \"echo\"]", "ENTRYPOINT exec me"));
        assertThat(changes.env()).containsExactly("A=1", "B=2");
        assertThat(changes.workingDir()).contains("/w");
        assertThat(changes.user()).contains("1000:1000");
        assertThat(changes.cmd().orElseThrow()).containsExactly("sh", "-c", "echo");
        assertThat(changes.entrypoint().orElseThrow()).containsExactly("/bin/sh", "-c", "exec me");
        for (String bad : java.util.List.of("ENV", "ENV =x", "WORKDIR rel", "CMD [1", "EXPOSE 80")) {
            assertThatThrownBy(() -> ImageChanges.parse(java.util.List.of(bad)))
                    .hasMessageStartingWith("Invalid --change '" + bad + "'");
        }
    }
}
