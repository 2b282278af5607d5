package dev.runcible.core.it.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.api.ImageReference;
import dev.runcible.core.Runcible;
import dev.runcible.core.host.Executables;
import dev.runcible.core.it.Cli;
import dev.runcible.core.it.RealNode;
import dev.runcible.core.it.registry.TestImage.Compression;
import dev.runcible.core.it.registry.TestImage.Layer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pulls from real registries (Debian's docker-registry on 127.0.0.1): plain HTTP, TLS with basic auth and a
 * private CA, bearer tokens; converts layers to squashfs and runs real containers from them.
 */
class RegistryIT {
    private static RealNode node;
    private static Path dir;
    private static RegistryServer plain;
    private static RegistryServer tls;
    private static RegistryServer tokens;
    private static TokenServer tokenServer;
    private static DroppingProxy proxy;
    private static Pki pki;
    private static int caches;
    private static TestImage.Blob corruptLayer;
    private static TestImage.Blob longerLayer;
    private static TestImage.Blob secretLayer;
    private static TestImage.Blob badManifest;

    @BeforeAll
    static void setUp() throws Exception {
        List<String> missing = Stream.of("docker-registry", "openssl", "htpasswd")
                .filter(tool -> Executables.find(tool).isEmpty()).toList();
        if (!missing.isEmpty()) {
            String message = "Registry tests need " + missing + " (see bin/install-prerequisites)";
            if ("1".equals(System.getenv("RUNCIBLE_REQUIRE_ROOT_TESTS"))) {
                Assertions.fail(message);
            }
            Assumptions.abort(message);
        }
        node = RealNode.create();
        dir = node.base.resolve("registry");
        Path storage = dir.resolve("storage");
        plain = RegistryServer.start(dir, storage, "", "");
        pushImages();
        pki = Pki.create(dir.resolve("pki"));
        Path htpasswd = Files.writeString(dir.resolve("htpasswd"), Pki.htpasswd("alice", "s3cret"));
        // Under "http:" in the registry config, so indented by hand (text blocks strip the common indent).
        String tlsSection = "  tls:\n    certificate: " + pki.serverCert + "\n    key: " + pki.serverKey;
        tls = RegistryServer.start(dir, storage, tlsSection, """
                auth:
                  htpasswd:
                    realm: runcible-test
                    path: %s""".formatted(htpasswd));
        tokenServer = new TokenServer(pki, "bob", "t0ken", 2);
        tokens = RegistryServer.start(dir, storage, "", """
                auth:
                  token:
                    realm: %s
                    service: %s
                    issuer: %s
                    rootcertbundle: %s""".formatted(tokenServer.realm(), TokenServer.SERVICE, TokenServer.ISSUER,
                pki.tokenCert));
        proxy = new DroppingProxy(plain.port, 1 << 20);
    }

    @AfterAll
    static void tearDown() throws Exception {
        for (AutoCloseable closeable : new AutoCloseable[] {proxy, tokens, tokenServer, tls, plain, node}) {
            if (closeable != null) {
                closeable.close();
            }
        }
    }

    private static void pushImages() throws Exception {
        Layer base = new Layer().busybox().dir("data").file("data/keep", "keep").file("data/gone", "gone")
                .dir("opq").file("opq/old1", "1").file("opq/old2", "2");
        Layer deletions = new Layer().dir("data").file("data/.wh.gone", "").dir("opq")
                .file("opq/.wh..wh..opq", "").file("opq/new", "new");
        Layer motd = new Layer().dir("etc").file("etc/motd", "welcome");
        TestImage oci = TestImage.oci().cmd("cat", "/etc/motd")
                .layer(base, Compression.GZIP).layer(deletions, Compression.NONE).layer(motd, Compression.ZSTD);
        push("test/layers", "oci", oci, "amd64");

        TestImage docker = TestImage.docker().cmd("ls", "/opq")
                .layer(new Layer().busybox().dir("opq").file("opq/old", "old"), Compression.GZIP)
                .layer(new Layer().dir("opq").file("opq/.wh..wh..opq", "").file("opq/fresh", "x"), Compression.GZIP);
        push("test/layers", "docker", docker, "amd64");

        TestImage amd64 = TestImage.oci().cmd("echo", "amd64 image").layer(new Layer().busybox(), Compression.GZIP);
        TestImage arm64 = TestImage.oci().cmd("echo", "arm64 image").layer(new Layer().busybox(), Compression.GZIP);
        TestImage.Blob amdManifest = push("test/multi", null, amd64, "amd64");
        TestImage.Blob armManifest = push("test/multi", null, arm64, "arm64");
        TestImage.Blob index = TestImage.index(List.of(armManifest, amdManifest), List.of("arm64", "amd64"));
        plain.push("test/multi", "1", index);

        byte[] noise = new byte[4 << 20];
        new Random(42).nextBytes(noise);
        TestImage big = TestImage.oci().cmd("ls", "-l", "/noise")
                .layer(new Layer().busybox().file("noise", noise, 0644), Compression.GZIP);
        push("test/big", "1", big, "amd64");

        TestImage escape = TestImage.oci().cmd("true")
                .layer(new Layer().busybox().file("etc/../../evil", "x"), Compression.NONE);
        push("test/escape", "1", escape, "amd64");

        TestImage corrupt = TestImage.oci().cmd("true")
                .layer(new Layer().busybox().file("unique", "corrupt-me"), Compression.GZIP);
        push("test/corrupt", "1", corrupt, "amd64");
        corruptLayer = corrupt.layers().get(0);

        // A layer the registry serves whole while the manifest declares it 1000 bytes shorter.
        byte[] longNoise = new byte[256 << 10];
        new Random(7).nextBytes(longNoise);
        TestImage longer = TestImage.oci().cmd("true")
                .layer(new Layer().busybox().file("long", longNoise, 0644), Compression.GZIP);
        TestImage.Blob longerConfig = longer.config("amd64");
        TestImage.Blob longerManifest = longer.manifest(longerConfig);
        long real = longer.layers().get(0).bytes().length;
        String shortened = new String(longerManifest.bytes(), StandardCharsets.UTF_8)
                .replaceAll("(\"size\"\\s*:\\s*)" + real + "\\b", "$1" + (real - 1000));
        if (shortened.equals(new String(longerManifest.bytes(), StandardCharsets.UTF_8))) {
            throw new IllegalStateException("the layer size was not found in the manifest");
        }
        plain.push("test/longer", "1", TestImage.Blob.of(longerManifest.mediaType(),
                shortened.getBytes(StandardCharsets.UTF_8)), longer.layers().get(0), longerConfig);
        longerLayer = longer.layers().get(0);

        // One tenant's private layer, and an image in another repository that names it without being served it.
        TestImage secret = TestImage.oci().cmd("cat", "/secret")
                .layer(new Layer().busybox().file("secret", "tenant-a only"), Compression.GZIP);
        push("tenant-a/private", "1", secret, "amd64");
        TestImage thief = TestImage.oci().cmd("cat", "/secret").layer(secret.layers().get(0));
        push("tenant-b/thief", "1", thief, "amd64");
        secretLayer = secret.layers().get(0);
        // The registry now serves that layer to tenant-b too; take its link away, as if tenant-b never had it.
        Path link = plain.storage.resolve("docker/registry/v2/repositories/tenant-b/thief/_layers/sha256")
                .resolve(secretLayer.digest().hex());
        RegistryServer.deleteTree(link);

        TestImage badJson = TestImage.oci().cmd("true").layer(new Layer().file("x", "bad json"), Compression.NONE);
        badManifest = push("test/badjson", "1", badJson, "amd64");
        // Damage what the registry serves, after it has accepted the real thing.
        Path data = plain.blobData(corruptLayer.digest());
        byte[] bytes = Files.readAllBytes(data);
        bytes[bytes.length / 2] ^= 0x55;
        Files.write(data, bytes);
        Path manifestData = plain.blobData(badManifest.digest());
        // JSON the registry still serves (it parses manifests on the way out) but whose config digest is bad.
        Files.writeString(manifestData, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest"
                + ".v1+json\",\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:short\",\"size\":1},\"layers\":[]}");
    }

    private static TestImage.Blob push(String repository, String tag, TestImage image, String arch) throws Exception {
        TestImage.Blob config = image.config(arch);
        TestImage.Blob manifest = image.manifest(config);
        List<TestImage.Blob> blobs = new ArrayList<>(image.layers());
        blobs.add(config);
        plain.push(repository, tag == null ? manifest.digest().toString() : tag, manifest,
                blobs.toArray(TestImage.Blob[]::new));
        return manifest;
    }

    /** A config pulling from registries, with a fresh cache so "nothing cached" can be checked. */
    private static Path config(Map<String, String> extra) throws Exception {
        int n = ++caches;
        Map<String, String> settings = new HashMap<>(Map.of(
                "runcible.image.tag-to-manifest", "registry",
                "runcible.image.manifest-to-resources", "registry",
                "registry.insecure-registries", plain.host() + "," + tokens.host() + ",127.0.0.1:" + proxy.port(),
                "squashfs.cache.dir", dir.resolve("cache-" + n).toString(),
                // The test images, like most registry images, have no User: they run as root.
                "runcible.allow-root", "true"));
        settings.putAll(extra);
        return node.configFile("registry-" + n, settings);
    }

    private static Path cacheOf(Path config) throws Exception {
        for (String line : Files.readAllLines(config)) {
            if (line.startsWith("squashfs.cache.dir=")) {
                return Path.of(line.substring("squashfs.cache.dir=".length()));
            }
        }
        throw new IllegalStateException();
    }

    private static List<Path> cachedLayers(Path config) throws Exception {
        Path layers = cacheOf(config).resolve("layers");
        if (!Files.isDirectory(layers)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(layers)) {
            return files.toList();
        }
    }

    @Test
    void multiLayerImageHidesDeletedFilesAndOpaqueDirectoryContents() throws Exception {
        Cli cli = Cli.run(config(Map.of()), "run", "--rm", plain.host() + "/test/layers:oci", "--", "sh", "-c",
                "ls /data; ls /opq; cat /etc/motd; echo; test -e /data/gone || echo gone-is-gone");
        assertThat(cli.err()).isEmpty();
        assertThat(cli.out()).isEqualTo("keep\nnew\nwelcome\ngone-is-gone\n");
        assertThat(cli.exitCode()).isZero();
        node.assertNothingLeftRunning();
    }

    @Test
    void dockerMediaTypesWork() throws Exception {
        Cli cli = Cli.run(config(Map.of()), "run", "--rm", plain.host() + "/test/layers:docker");
        assertThat(cli.out()).isEqualTo("fresh\n");
        assertThat(cli.exitCode()).isZero();
    }

    @Test
    void anIndexResolvesToThisMachinesPlatform() throws Exception {
        Cli cli = Cli.run(config(Map.of()), "run", "--rm", plain.host() + "/test/multi:1");
        assertThat(cli.out()).isEqualTo("amd64 image\n");
    }

    @Test
    void basicAuthOverTlsWithAPrivateCa() throws Exception {
        String image = tls.host() + "/test/layers:oci";
        Cli ok = Cli.run(config(Map.of("registry.ca-file", pki.caCert.toString(), "registry.username", "alice",
                "registry.password", "s3cret")), "pull", image);
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("Pulled " + image).contains("3 layer(s)");

        Path wrong = config(Map.of("registry.ca-file", pki.caCert.toString(), "registry.username", "alice",
                "registry.password", "wrong"));
        Cli refused = Cli.run(wrong, "pull", image);
        assertThat(refused.exitCode()).isEqualTo(125);
        assertThat(refused.err()).contains("Tried to pull manifest " + image).contains("refused access (401")
                .doesNotContain("wrong");
        assertThat(cachedLayers(wrong)).isEmpty();

        Cli untrusted = Cli.run(config(Map.of("registry.username", "alice", "registry.password", "s3cret")),
                "pull", image);
        assertThat(untrusted.exitCode()).isEqualTo(125);
        assertThat(untrusted.err()).contains("TLS failed").contains("registry.ca-file");
    }

    @Test
    void bearerTokensAreFetchedWithCredentialsAndRenewedWhenExpired() throws Exception {
        int before = tokenServer.issued.get();
        Path config = config(Map.of("registry.username", "bob", "registry.password", "t0ken"));
        Map<String, String> settings = new HashMap<>();
        for (String line : Files.readAllLines(config)) {
            int eq = line.indexOf('=');
            settings.put(line.substring(0, eq), line.substring(eq + 1));
        }
        try (Runcible runcible = Runcible.open(dev.runcible.core.config.Settings.of(settings, Map.of()),
                RegistryIT.class.getClassLoader())) {
            runcible.pull(ImageReference.parse(tokens.host() + "/test/layers:docker"));
            int afterFirst = tokenServer.issued.get();
            assertThat(afterFirst).isGreaterThan(before);
            Thread.sleep(2_500); // the 2 s token has expired
            runcible.pull(ImageReference.parse(tokens.host() + "/test/layers:oci"));
            assertThat(tokenServer.issued.get()).isGreaterThan(afterFirst);
        }
        Cli refused = Cli.run(config(Map.of("registry.username", "bob", "registry.password", "nope")), "pull",
                tokens.host() + "/test/layers:oci");
        assertThat(refused.exitCode()).isEqualTo(125);
        assertThat(refused.err()).contains("token service " + tokenServer.realm() + " refused the credentials");
    }

    @Test
    void aLayerLongerThanItsDescriptorIsCutOffAtItsDeclaredSize() throws Exception {
        Path config = config(Map.of());
        Cli cli = Cli.run(config, "pull", plain.host() + "/test/longer:1");
        assertThat(cli.exitCode()).isEqualTo(125);
        assertThat(cli.err()).contains("Size mismatch for layer " + longerLayer.digest())
                .contains("sent more than the " + (longerLayer.bytes().length - 1000) + " bytes its descriptor gives");
        assertThat(cachedLayers(config)).isEmpty();
    }

    @Test
    void aCachedBlobServesAnImageOnlyIfItsOwnRepositoryServesTheBlob() throws Exception {
        Path config = config(Map.of());
        Cli owner = Cli.run(config, "run", "--rm", plain.host() + "/tenant-a/private:1");
        assertThat(owner.out()).as(owner.err()).isEqualTo("tenant-a only");
        // Same node, same cache: the layer is there, but tenant-b's repository does not serve it.
        Cli thief = Cli.run(config, "run", "--rm", plain.host() + "/tenant-b/thief:1");
        assertThat(thief.exitCode()).isEqualTo(125);
        assertThat(thief.out()).isEmpty();
        assertThat(thief.err()).contains("tenant-b/thief serves blob " + secretLayer.digest())
                .contains("does not (404)");
        node.assertNothingLeftRunning();
        // 'pull' shows progress, through a fetcher that reports transfers: the check goes through it too.
        Cli pulled = Cli.run(config, "pull", plain.host() + "/tenant-b/thief:1");
        assertThat(pulled.exitCode()).isEqualTo(125);
        assertThat(pulled.err()).contains("tenant-b/thief serves blob " + secretLayer.digest());
        // The operator can turn the check off (a registry that hides nothing between repositories).
        Path unchecked = node.configFile("registry-unchecked", readSettings(config, Map.of(
                "registry.check-blob-access", "false")));
        Cli trusted = Cli.run(unchecked, "run", "--rm", plain.host() + "/tenant-b/thief:1");
        assertThat(trusted.out()).as(trusted.err()).isEqualTo("tenant-a only");
    }

    private static Map<String, String> readSettings(Path config, Map<String, String> overrides) throws Exception {
        Map<String, String> settings = new HashMap<>();
        for (String line : Files.readAllLines(config)) {
            int eq = line.indexOf('=');
            settings.put(line.substring(0, eq), line.substring(eq + 1));
        }
        settings.putAll(overrides);
        return settings;
    }

    @Test
    void aBlobThatDoesNotMatchItsDigestIsRejectedAndNothingIsCached() throws Exception {
        Path config = config(Map.of());
        Cli cli = Cli.run(config, "run", "--rm", plain.host() + "/test/corrupt:1");
        assertThat(cli.exitCode()).isEqualTo(125);
        assertThat(cli.err()).contains("Digest mismatch for layer " + corruptLayer.digest())
                .contains("expected " + corruptLayer.digest());
        assertThat(cachedLayers(config)).isEmpty();
        node.assertNothingLeftRunning();
    }

    @Test
    void aConnectionDroppedHalfWayIsResumed() throws Exception {
        Path config = config(Map.of());
        int drops = proxy.drops.get();
        Cli cli = Cli.run(config, "run", "--rm", "127.0.0.1:" + proxy.port() + "/test/big:1");
        assertThat(cli.exitCode()).as(cli.err()).isZero();
        assertThat(cli.out()).contains(Integer.toString(4 << 20)).contains("/noise");
        assertThat(proxy.drops.get()).isEqualTo(drops + 1);
        assertThat(cachedLayers(config)).hasSize(2); // the layer and its squashfs digest record
    }

    @Test
    void importToAStoreThenRunTagUntagAndCollect() throws Exception {
        Path store = dir.resolve("imported-store");
        Path registry = config(Map.of());
        Cli imported = Cli.run(registry, "import", "docker://" + plain.host() + "/test/layers:oci", "--to",
                store.toUri().toString(), "--tag", "layers:1");
        assertThat(imported.exitCode()).as(imported.err()).isZero();
        assertThat(Files.readString(store.resolve("image-tag-to-hash"))).startsWith("layers:1:");
        try (Stream<Path> layers = Files.list(store.resolve("layers"))) {
            assertThat(layers.map(p -> p.getFileName().toString()))
                    .filteredOn(name -> name.endsWith(".sqsh")).hasSize(3);
        }
        Path local = node.configFile("imported-local", Map.of("local.root", store.toString(),
                "runcible.allow-root", "true"));
        Cli run = Cli.run(local, "run", "--rm", "layers:1", "--", "sh", "-c", "ls /opq; cat /etc/motd");
        assertThat(run.out()).isEqualTo("new\nwelcome");
        assertThat(run.exitCode()).isZero();

        assertThat(Cli.run(local, "tag", "layers:1", "layers:latest", "other/name:2").exitCode()).isZero();
        assertThat(Cli.run(local, "untag", "layers:1").exitCode()).isZero();
        Cli images = Cli.run(local, "images");
        assertThat(images.out()).contains("layers:latest").contains("other/name:2").doesNotContain("layers:1 ");
        Cli kept = Cli.run(local, "gc", "--store", "--grace", "0s");
        assertThat(kept.out()).startsWith("Removed 0 file(s)");
        assertThat(Cli.run(local, "untag", "layers:latest", "other/name:2").exitCode()).isZero();
        Cli collected = Cli.run(local, "gc", "--store", "--grace", "0s");
        // manifest, config, 3 layers, their 3 digest records, 3 chunk lists and the lists' 3 records
        assertThat(collected.out()).startsWith("Removed 14 file(s)");
        try (Stream<Path> files = Files.walk(store)) {
            assertThat(files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()))
                    .containsOnly("image-tag-to-hash", ".image-tag-to-hash.flock");
        }
    }

    @Test
    void oneConfigurationImportsFromAPlainHttpRegistryIntoHdfs() throws Exception {
        org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
        conf.set("dfs.namenode.safemode.extension", "0");
        conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        org.apache.hadoop.hdfs.MiniDFSCluster cluster = new org.apache.hadoop.hdfs.MiniDFSCluster.Builder(conf,
                dir.resolve("hdfs").toFile()).numDataNodes(1).build();
        try {
            cluster.waitActive();
            String root = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/runc-root";
            // Registry and Hadoop settings in one file, though only the registry plugin reads images here.
            Path config = config(Map.of("hadoop.conf.dfs.replication", "1", "hdfs.tag-file.refresh-seconds", "5"));
            Cli imported = Cli.run(config, "import", "docker://" + plain.host() + "/test/layers:oci", "--to", root,
                    "--tag", "layers:1");
            assertThat(imported.exitCode()).as(imported.err()).isZero();
            org.apache.hadoop.fs.FileSystem fs = cluster.getFileSystem();
            var files = fs.listFiles(new org.apache.hadoop.fs.Path(root), true);
            int count = 0;
            while (files.hasNext()) {
                var file = files.next();
                if (file.getPath().getName().startsWith(".")) {
                    continue; // the lock file
                }
                count++;
                assertThat(file.getReplication()).as(file.getPath().toString()).isEqualTo((short) 1);
                assertThat(file.getPermission().toShort()).as(file.getPath().toString()).isEqualTo((short) 0444);
            }
            // tag file, manifest, config, 3 layers, their 3 records, 3 chunk lists and the lists' 3 records
            assertThat(count).isEqualTo(15);
            Path typo = config(Map.of("hadoop.conf.dfs.replication", "1", "hdfs.tag-file.refresh-second", "5"));
            Cli refused = Cli.run(typo, "import", "docker://" + plain.host() + "/test/layers:oci", "--to", root,
                    "--tag", "layers:2");
            assertThat(refused.exitCode()).isEqualTo(125);
            assertThat(refused.err()).contains("unknown key 'hdfs.tag-file.refresh-second'")
                    .contains("did you mean 'hdfs.tag-file.refresh-seconds'?");
        } finally {
            cluster.shutdown();
        }
    }

    /**
     * Rebuilds each layer of a store as Storm's docker-to-squash does: mksquashfs (gzip), and no digest record or
     * chunk list.
     */
    private static Map<Path, String> rewriteLayersAsStormDoes(Path store) throws Exception {
        Map<Path, String> layers = new HashMap<>();
        List<Path> files;
        try (Stream<Path> list = Files.list(store.resolve("layers"))) {
            files = list.toList();
        }
        for (Path file : files) {
            String name = file.getFileName().toString();
            if (name.endsWith(".sha256") || name.endsWith(".chunks")) {
                Files.delete(file);
                continue;
            }
            Path tree = dir.resolve("unpacked-" + file.getFileName());
            Path rebuilt = dir.resolve("rebuilt-" + file.getFileName());
            for (List<String> command : List.of(List.of("unsquashfs", "-q", "-n", "-d", tree.toString(),
                    file.toString()), List.of("mksquashfs", tree.toString(), rebuilt.toString(), "-comp", "gzip",
                    "-noappend", "-quiet", "-no-progress"))) {
                Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
                String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(process.waitFor()).as(command + ": " + output).isZero();
            }
            Files.delete(file);
            Files.move(rebuilt, file);
            layers.put(file, dev.runcible.api.Digest.of(file).hex());
        }
        return layers;
    }

    @Test
    void importIntoAStoreStormWroteKeepsItsLayersAndEveryNameRunsOnAColdNode() throws Exception {
        Path store = dir.resolve("storm-store");
        String image = "docker://" + plain.host() + "/test/layers:oci";
        assertThat(Cli.run(config(Map.of()), "import", image, "--to", store.toUri().toString(), "--tag",
                "storm/layers:1").exitCode()).isZero();
        Map<Path, String> stormLayers = rewriteLayersAsStormDoes(store);
        String manifest = Files.readString(store.resolve("image-tag-to-hash")).strip();
        manifest = manifest.substring(manifest.lastIndexOf(':') + 1);
        // Names Storm's and YARN's tag files hold: a bare name (Hadoop's docs write "centos:latest,centos") and
        // one with uppercase letters, which docker's grammar refuses.
        Files.writeString(store.resolve("image-tag-to-hash"), "centos,MyTeam/Hello:Prod:" + manifest + "\n",
                java.nio.file.StandardOpenOption.APPEND);

        Cli again = Cli.run(config(Map.of()), "import", image, "--to", store.toUri().toString(), "--tag",
                "runcible/layers:2");
        assertThat(again.exitCode()).as(again.err()).isZero();
        for (Map.Entry<Path, String> layer : stormLayers.entrySet()) {
            assertThat(dev.runcible.api.Digest.of(layer.getKey()).hex()).as("unchanged: " + layer.getKey())
                    .isEqualTo(layer.getValue());
            assertThat(Path.of(layer.getKey() + ".sha256")).as("no record of other bytes").doesNotExist();
        }
        Path coldNode = node.configFile("storm-store-cold", Map.of("local.root", store.toString(),
                "squashfs.cache.dir", dir.resolve("storm-store-cache").toString(), "runcible.allow-root", "true"));
        for (String name : List.of("storm/layers:1", "runcible/layers:2", "centos", "MyTeam/Hello:Prod")) {
            Cli run = Cli.run(coldNode, "run", "--rm", name, "--", "sh", "-c", "ls /opq; cat /etc/motd");
            assertThat(run.exitCode()).as(name + ": " + run.err()).isZero();
            assertThat(run.out()).as(name).isEqualTo("new\nwelcome");
        }
        Cli registryName = Cli.run(config(Map.of()), "run", "--rm", "MyTeam/Hello:Prod");
        assertThat(registryName.exitCode()).isEqualTo(125);
        assertThat(registryName.err()).contains("Invalid image reference 'MyTeam/Hello:Prod'").contains("lowercase");
        node.assertNothingLeftRunning();
    }

    @Test
    void unknownRepositoriesAndMalformedManifestsAreTypedErrors() throws Exception {
        Path config = config(Map.of());
        Cli unknown = Cli.run(config, "run", plain.host() + "/test/nope:1");
        assertThat(unknown.exitCode()).isEqualTo(125);
        assertThat(unknown.err()).contains("Tried to pull manifest " + plain.host() + "/test/nope:1")
                .contains("no such manifest (404)");
        Cli malformed = Cli.run(config, "run", plain.host() + "/test/badjson:1");
        assertThat(malformed.exitCode()).isEqualTo(125);
        // The bytes were changed on the registry's disk after the push: the tag's Docker-Content-Digest still names
        // the manifest pushed, so the damage is caught before the bytes are parsed.
        assertThat(malformed.err()).contains("Manifest " + plain.host() + "/test/badjson:1 is corrupt")
                .contains("expected digest " + badManifest.digest());
        Cli badReference = Cli.run(config, "import", "docker://" + plain.host() + "/Test/Bad");
        assertThat(badReference.err()).contains("Invalid image reference");
        assertThat(cachedLayers(config)).isEmpty();
        node.assertNothingLeftRunning();
    }

    @Test
    void aLayerEscapingTheRootIsRefusedAndNothingIsCached() throws Exception {
        Path config = config(Map.of());
        Cli cli = Cli.run(config, "run", plain.host() + "/test/escape:1");
        assertThat(cli.exitCode()).isEqualTo(125);
        assertThat(cli.err()).contains("'etc/../../evil' that escapes the root");
        assertThat(cachedLayers(config)).isEmpty();
        try (Stream<Path> tmp = Files.exists(cacheOf(config).resolve("tmp")) ? Files.list(cacheOf(config)
                .resolve("tmp")) : Stream.empty()) {
            assertThat(tmp).isEmpty();
        }
        node.assertNothingLeftRunning();
    }

    static String text(Path file) throws Exception {
        return Files.readString(file, StandardCharsets.UTF_8);
    }
}
