package dev.runcible.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.runcible.api.Descriptor;
import dev.runcible.api.Digest;
import dev.runcible.api.ImageReference;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.MediaTypes;
import dev.runcible.api.OciResource;
import dev.runcible.api.ResourceUnavailableException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RegistryPartsTest {
    private static final Digest DIGEST = new Digest("sha256", "a".repeat(64));

    @Test
    void parsesBearerChallenges() {
        Challenge challenge = Challenge.parse("Bearer realm=\"https://auth.example.com/token\",service="
                + "\"registry.example.com\",scope=\"repository:team/app:pull\"").orElseThrow();
        assertThat(challenge.isBearer()).isTrue();
        assertThat(challenge.parameters()).containsExactly(Map.entry("realm", "https://auth.example.com/token"),
                Map.entry("service", "registry.example.com"), Map.entry("scope", "repository:team/app:pull"));
        Challenge basic = Challenge.parse("Basic realm=\"Registry Realm\"").orElseThrow();
        assertThat(basic.isBasic()).isTrue();
        assertThat(basic.parameters()).containsEntry("realm", "Registry Realm");
        assertThat(Challenge.parse(null)).isEmpty();
        assertThat(Challenge.parse("Bearer realm=unquoted,error=\"insufficient_scope\"").orElseThrow().parameters())
                .containsEntry("realm", "unquoted").containsEntry("error", "insufficient_scope");
    }

    @Test
    void blobLocationsRoundTrip() throws Exception {
        BlobLocation location = new BlobLocation("127.0.0.1:5000", "team/app", DIGEST);
        URI uri = location.toUri();
        assertThat(uri.toString()).isEqualTo("registry://127.0.0.1:5000/team/app/blobs/sha256:" + DIGEST.hex());
        assertThat(BlobLocation.parse(uri)).isEqualTo(location);
        assertThatThrownBy(() -> BlobLocation.parse(URI.create("registry://host/app/manifests/x")))
                .isInstanceOf(ResourceUnavailableException.class).hasMessageContaining("registry://HOST/REPOSITORY");
        assertThatThrownBy(() -> BlobLocation.parse(URI.create("registry://host/app/blobs/sha256:zz")))
                .isInstanceOf(ResourceUnavailableException.class).hasMessageContaining("sha256:zz");
    }

    @ParameterizedTest
    @CsvSource({
            MediaTypes.OCI_LAYER_TAR + ",TAR",
            MediaTypes.OCI_LAYER_TAR_GZIP + ",TAR_GZIP",
            MediaTypes.DOCKER_LAYER_TAR_GZIP + ",TAR_GZIP",
            MediaTypes.OCI_LAYER_TAR_ZSTD + ",TAR_ZSTD"})
    void mapsLayerMediaTypesToFormats(String mediaType, OciResource.Format format) throws Exception {
        assertThat(RegistryImages.format(ImageReference.parse("app"), new Descriptor(mediaType, DIGEST, 1)))
                .isEqualTo(format);
    }

    @Test
    void rejectsLayersItCannotConvert() {
        assertThatThrownBy(() -> RegistryImages.format(ImageReference.parse("app"),
                new Descriptor("application/vnd.cncf.helm.chart.content.v1.tar+gzip", DIGEST, 1)))
                .isInstanceOf(InvalidImageException.class).hasMessageContaining("helm.chart");
    }

    @Test
    void findsCredentialsInADockerConfigFile(@TempDir Path dir) throws Exception {
        String auth = Base64.getEncoder().encodeToString("carol:pa:ss".getBytes(StandardCharsets.UTF_8));
        Path file = Files.writeString(dir.resolve("config.json"), """
                {"auths": {"https://index.docker.io/v1/": {"auth": "%s"},
                           "127.0.0.1:5000": {"username": "dave", "password": "pw"}}}
                """.formatted(auth));
        RegistrySettings settings = new RegistrySettings(Set.of(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.of(file), 3, 10, 60, true);
        Credentials credentials = new Credentials(settings, new ObjectMapper());
        assertThat(credentials.forRegistry("docker.io")).contains(new Credentials.UserPassword("carol", "pa:ss"));
        assertThat(credentials.forRegistry("127.0.0.1:5000")).contains(new Credentials.UserPassword("dave", "pw"));
        assertThat(credentials.forRegistry("elsewhere:1")).isEmpty();
        assertThat(new Credentials.UserPassword("u", "secret").toString()).doesNotContain("secret");
    }

    @Test
    void configuredCredentialsWinAndInsecureHostsUseHttp() throws Exception {
        RegistrySettings settings = new RegistrySettings(Set.of("127.0.0.1:5000"), Optional.empty(),
                Optional.of("u"), Optional.of("p"), Optional.empty(), 3, 10, 60, true);
        assertThat(new Credentials(settings, new ObjectMapper()).forRegistry("any")).contains(
                new Credentials.UserPassword("u", "p"));
        try (RegistryClient client = new RegistryClient(settings, TrustedCertificates.context(Optional.empty()),
                new ObjectMapper())) {
            assertThat(client.base("127.0.0.1:5000")).hasToString("http://127.0.0.1:5000/v2/");
            assertThat(client.base("registry.example.com")).hasToString("https://registry.example.com/v2/");
            assertThat(client.base("docker.io")).hasToString("https://registry-1.docker.io/v2/");
        }
    }

    @Test
    void aCaFileWithoutCertificatesIsReported(@TempDir Path dir) throws Exception {
        Path empty = Files.writeString(dir.resolve("ca.pem"), "not a certificate");
        assertThatThrownBy(() -> TrustedCertificates.context(Optional.of(empty)))
                .isInstanceOf(ResourceUnavailableException.class).hasMessageContaining(empty.toString());
    }

    @Test
    void theTrustStoreIsReadAtTheFirstTlsConnectionOnly(@TempDir Path dir) throws Exception {
        Path empty = Files.writeString(dir.resolve("ca.pem"), "not a certificate");
        var tls = TrustedCertificates.lazy(Optional.of(empty)); // nothing read yet: no error here
        try (java.net.ServerSocket server = new java.net.ServerSocket(0, 1,
                java.net.InetAddress.getLoopbackAddress());
                java.net.Socket socket = new java.net.Socket(server.getInetAddress(), server.getLocalPort())) {
            assertThatThrownBy(() -> tls.upgrade(socket, "registry.example.com", 443, null, null))
                    .isInstanceOf(javax.net.ssl.SSLException.class)
                    .hasMessageContaining("Cannot load the CA certificates of registry.ca-file " + empty);
        }
    }

    @Test
    void aDockerContentDigestHeaderIsTheDigestATagIsCheckedAgainst() {
        String hex = "a".repeat(64);
        assertThat(RegistryImages.sha256Header(" sha256:" + hex + " ")).contains(
                new dev.runcible.api.Digest("sha256", hex));
        assertThat(RegistryImages.sha256Header("sha512:" + "b".repeat(128))).isEmpty();
        assertThat(RegistryImages.sha256Header("sha256:short")).isEmpty();
    }
}
