//! Images — curators' uploads and the fetched image links of harvested records
//! ([`crate::remote_images`]) — checked, decoded with limits, re-encoded without metadata,
//! resized and stored content-addressed.
//!
//! The order of the checks is what keeps a hostile file cheap:
//! 1. the byte size ([`ImageLimits::max_bytes`]) — before anything is parsed;
//! 2. the real format, sniffed from the bytes (the file name and the declared content type
//!    are ignored): JPEG, PNG or WebP, else `415`;
//! 3. the dimensions from the header alone — a decompression bomb (a small PNG claiming
//!    60000×60000) or a lying header is refused here (`413`), before any pixel buffer exists;
//! 4. the decode itself, under `image`'s [`Limits`] (dimensions and total allocation), so
//!    even a decoder that learns more later cannot allocate past the cap; a truncated or
//!    corrupt file is a `422`.
//!
//! Re-encoding from pixels drops every metadata block (EXIF with its GPS position, XMP,
//! comments); the EXIF orientation is applied first so the picture still stands upright.
//! Two sizes are kept, as JPEG: `thumb` (240 px) and `display` (1200 px), under
//! `{data_dir}/images/{hash[0..2]}/{hash}/`, where `hash` is the SHA-256 of the uploaded
//! bytes. Files never change once written, so they are served as immutable.
//!
//! Where they are kept is an [`ImageStorage`]. With one node (a SQLite store) the files are
//! the images. On a store shared by several nodes (PostgreSQL), each of which has its own
//! data directory, the store holds the bytes of both sizes too
//! ([`store::Store::put_image_files`]), written in the same step as the files and so before
//! any record can point at the image; a node's images directory is then a cache, and
//! [`ImageStorage::read`] fills it from the store on the node's first request for an image
//! written elsewhere.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use store::{Store, StoreError};

use crate::auth::secret::sha256_hex;

pub use crate::config::ImageLimits;

/// The two stored sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// 240 px on the longer side.
    Thumb,
    /// 1200 px on the longer side.
    Display,
}

impl Variant {
    /// Longest side, in pixels.
    pub fn max_side(self) -> u32 {
        match self {
            Variant::Thumb => 240,
            Variant::Display => 1200,
        }
    }

    /// File name, which is also the last URL segment.
    pub fn file_name(self) -> &'static str {
        match self {
            Variant::Thumb => "thumb.jpg",
            Variant::Display => "display.jpg",
        }
    }

    /// The variant served under `file_name`.
    pub fn from_file_name(name: &str) -> Option<Variant> {
        [Variant::Thumb, Variant::Display]
            .into_iter()
            .find(|v| v.file_name() == name)
    }
}

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Too many bytes or pixels (413).
    #[error("{0}")]
    TooLarge(String),
    /// Not JPEG, PNG or WebP (415).
    #[error("{0}")]
    Unsupported(String),
    /// Truncated or corrupt (422).
    #[error("{0}")]
    Invalid(String),
    /// Writing the files failed (500).
    #[error("storing the image: {0}")]
    Io(#[from] std::io::Error),
    /// Writing the image into a shared store, or reading it from there, failed (500).
    #[error("storing the image: {0}")]
    Store(#[from] StoreError),
}

/// A processed image, ready to store.
pub struct ProcessedImage {
    /// SHA-256 of the uploaded bytes.
    pub hash: String,
    /// Display size width.
    pub width: u32,
    /// Display size height.
    pub height: u32,
    display: Vec<u8>,
    thumb: Vec<u8>,
}

fn reader<'a>(bytes: &'a [u8], format: ImageFormat, limits: &ImageLimits) -> ImageReader<Cursor<&'a [u8]>> {
    let mut decode_limits = Limits::default();
    decode_limits.max_image_width = Some(limits.max_width);
    decode_limits.max_image_height = Some(limits.max_height);
    decode_limits.max_alloc = Some(limits.max_alloc);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decode_limits);
    reader
}

fn limit_error(err: image::ImageError) -> ImageError {
    match err {
        image::ImageError::Limits(limit) => {
            ImageError::TooLarge(format!("the image is too large to decode: {limit}"))
        }
        other => ImageError::Invalid(format!(
            "the image cannot be decoded (truncated or corrupt?): {other}"
        )),
    }
}

/// Checks, decodes, re-encodes and stores an upload: the one way every caller (uploads,
/// curator pages, the fetcher of harvested links) turns bytes into a stored image.
///
/// The cheap checks run first; then the upload waits for a decode slot ([`DecodeSlot`]),
/// asynchronously: if this future is dropped meanwhile (the request timed out, the client
/// went away), it leaves the queue and nothing is decoded. The decode runs on tokio's
/// blocking pool, which dropping cannot stop; so the blocking task looks once more, before
/// decoding, whether anyone still waits for its answer, and if not gives its slot back
/// without decoding ([`DecodeCounts::skipped`]).
pub async fn process_and_store(
    bytes: Vec<u8>,
    limits: ImageLimits,
    storage: ImageStorage,
) -> Result<ProcessedImage, ImageError> {
    let format = check(&bytes, &limits)?;
    let slot = DecodeSlot::acquire().await;
    let (answer, answered) = tokio::sync::oneshot::channel();
    tokio::task::spawn_blocking(move || {
        if answer.is_closed() {
            COUNTS.skipped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let result = decode(&bytes, format, &limits, slot).and_then(|processed| {
            storage.put(&processed)?;
            Ok(processed)
        });
        let _ = answer.send(result);
    });
    answered
        .await
        .map_err(|_| ImageError::Io(std::io::Error::other("the decoding task ended without an answer")))?
}

/// Checks, decodes and re-encodes an upload, waiting for a decode slot on a runtime of
/// its own (for the unit tests, which have none).
#[cfg(test)]
fn process(bytes: &[u8], limits: &ImageLimits) -> Result<ProcessedImage, ImageError> {
    let format = check(bytes, limits)?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let slot = runtime.block_on(DecodeSlot::acquire());
    decode(bytes, format, limits, slot)
}

/// The checks before decoding (steps 1 to 3 of the module documentation): the format.
fn check(bytes: &[u8], limits: &ImageLimits) -> Result<ImageFormat, ImageError> {
    if bytes.len() > limits.max_bytes {
        return Err(ImageError::TooLarge(format!(
            "the image has {} bytes; at most {}",
            bytes.len(),
            limits.max_bytes
        )));
    }
    let format = match image::guess_format(bytes) {
        Ok(format @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => format,
        _ => {
            return Err(ImageError::Unsupported(
                "the file is not a JPEG, PNG or WebP image (judged by its content, not its name)".into(),
            ));
        }
    };
    if format == ImageFormat::Jpeg && !has_end_marker(bytes) {
        // JPEG decoders fill a cut-off scan with grey rather than fail; a truncated upload
        // must not become a half-grey picture, so the end-of-image marker is required.
        return Err(ImageError::Invalid(
            "the JPEG is truncated (it has no end-of-image marker)".into(),
        ));
    }
    let (width, height) = reader(bytes, format, limits)
        .into_dimensions()
        .map_err(limit_error)?;
    let pixels = u64::from(width) * u64::from(height);
    let budget = limits.max_pixels.min(limits.max_alloc / 4);
    if width > limits.max_width || height > limits.max_height || pixels > budget {
        return Err(ImageError::TooLarge(format!(
            "the image is {width}×{height} pixels; at most {}×{} and {} megapixels",
            limits.max_width,
            limits.max_height,
            budget / 1_000_000
        )));
    }
    Ok(format)
}

/// Decodes and re-encodes a checked image, holding `slot` until done.
fn decode(
    bytes: &[u8],
    format: ImageFormat,
    limits: &ImageLimits,
    slot: DecodeSlot,
) -> Result<ProcessedImage, ImageError> {
    // Decoding is where the memory goes: at most DECODE_SLOTS at once in the whole process,
    // whoever asks (uploads, curator pages, the fetcher of harvested links).
    let _slot = slot;
    COUNTS.started.fetch_add(1, Ordering::Relaxed);
    let mut decoder = reader(bytes, format, limits)
        .into_decoder()
        .map_err(limit_error)?;
    let orientation = decoder.orientation().map_err(limit_error)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(limit_error)?;
    image.apply_orientation(orientation);
    let display = resize(&image, Variant::Display);
    let thumb = resize(&image, Variant::Thumb);
    Ok(ProcessedImage {
        hash: sha256_hex(bytes),
        width: display.width(),
        height: display.height(),
        display: encode_jpeg(&display)?,
        thumb: encode_jpeg(&thumb)?,
    })
}

/// Decodes that may run at once, process-wide: one per core of the machine this is sized
/// for. With the pixel budget this bounds the memory of decoding, however many uploads
/// arrive together; the others wait their turn (within the request timeout). Measured with
/// four concurrent 40-megapixel uploads: the process went from 97 MB to a 625 MB peak, about
/// 265 MB per decode (the pixels, the resize buffers and the two stored sizes).
pub const DECODE_SLOTS: usize = 2;

/// The decode slots. tokio's semaphore is fair (first come, first served) and its
/// `acquire` future leaves the queue when dropped.
static DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(DECODE_SLOTS);

/// What became of the uploads that waited for a decode slot, since the process started.
static COUNTS: Counters = Counters {
    started: AtomicU64::new(0),
    abandoned: AtomicU64::new(0),
    skipped: AtomicU64::new(0),
};

struct Counters {
    started: AtomicU64,
    abandoned: AtomicU64,
    skipped: AtomicU64,
}

/// Counts of decodes since the process started ([`decode_counts`]), for operators and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeCounts {
    /// Decodes begun (each under a slot).
    pub started: u64,
    /// Waits for a slot given up because their request was gone before a slot was free.
    pub abandoned: u64,
    /// Slots given back undecoded: the request went away between getting its slot and the
    /// decoding thread starting.
    pub skipped: u64,
}

/// The counts so far.
pub fn decode_counts() -> DecodeCounts {
    DecodeCounts {
        started: COUNTS.started.load(Ordering::Relaxed),
        abandoned: COUNTS.abandoned.load(Ordering::Relaxed),
        skipped: COUNTS.skipped.load(Ordering::Relaxed),
    }
}

/// One of the [`DECODE_SLOTS`], given back when dropped.
pub struct DecodeSlot(#[allow(dead_code)] tokio::sync::SemaphorePermit<'static>);

impl DecodeSlot {
    /// Waits for a free slot and takes it. Dropping the future gives up its place in the
    /// queue (counted as [`DecodeCounts::abandoned`]). Public so that a test can hold the
    /// slots.
    pub async fn acquire() -> DecodeSlot {
        /// Counts a wait dropped before it got its slot.
        struct Waiting(bool);
        impl Drop for Waiting {
            fn drop(&mut self) {
                if self.0 {
                    COUNTS.abandoned.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        let mut waiting = Waiting(true);
        // The semaphore is a static and never closed, so `acquire` cannot fail; a closed one
        // would mean no decode can ever run, and waiting forever is then what is right.
        let permit = loop {
            match DECODES.acquire().await {
                Ok(permit) => break permit,
                Err(_) => std::future::pending::<()>().await,
            }
        };
        waiting.0 = false;
        DecodeSlot(permit)
    }
}

/// True if a JPEG's end-of-image marker (`FF D9`) is within its last KiB (some writers pad
/// after it). Inside entropy-coded data `FF` is always stuffed, so the pair only occurs as
/// a marker.
fn has_end_marker(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Scales down (never up) to fit the variant, flattening transparency onto white.
fn resize(image: &DynamicImage, variant: Variant) -> RgbImage {
    let side = variant.max_side();
    let scaled = if image.width() > side || image.height() > side {
        image.resize(side, side, FilterType::Lanczos3)
    } else {
        image.clone()
    };
    let rgba = scaled.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([blend(r), blend(g), blend(b)])
    })
}

fn encode_jpeg(image: &RgbImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(image)
        .map_err(|err| ImageError::Io(std::io::Error::other(err)))?;
    Ok(out)
}

/// The URL the server serves one variant of an image at (`GET /images/{hash}/{file}`).
pub fn url(hash: &str, variant: Variant) -> String {
    format!("/images/{hash}/{}", variant.file_name())
}

/// The hash of a URL of [`url`]'s form, if `url` is one.
pub fn hash_of_url(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("/images/")?;
    let (hash, file) = rest.split_once('/')?;
    (is_hash(hash) && Variant::from_file_name(file).is_some()).then_some(hash)
}

/// Where the images live under the data directory.
pub fn images_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("images")
}

/// True for a well-formed image address (64 lowercase hex digits).
pub fn is_hash(hash: &str) -> bool {
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The file of one variant of an image.
pub fn variant_path(images_dir: &Path, hash: &str, variant: Variant) -> PathBuf {
    images_dir.join(&hash[..2]).join(hash).join(variant.file_name())
}

/// Where images are kept: this node's images directory and, on a store shared by several
/// nodes, the store (see the module's documentation).
#[derive(Clone)]
pub struct ImageStorage {
    dir: PathBuf,
    shared: Option<Arc<Store>>,
}

impl ImageStorage {
    /// The images of the node whose data directory is `data_dir`, with `store` as their
    /// shared home if it is shared ([`Store::is_shared`]); a store of one node holds no
    /// image bytes.
    pub fn new(data_dir: &Path, store: &Arc<Store>) -> ImageStorage {
        ImageStorage {
            dir: images_dir(data_dir),
            shared: store.is_shared().then(|| Arc::clone(store)),
        }
    }

    /// This node's images directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores both sizes of a processed image: the files ([`store()`]), then, on a shared
    /// store, their bytes in the store. Both happen before the caller stores any record
    /// pointing at the image, so no node sees a record whose image it cannot get. A failure
    /// of the second leaves files behind, which is harmless: they are the right bytes for
    /// their name, and the next upload of the image stores them in the store.
    pub fn put(&self, image: &ProcessedImage) -> Result<(), ImageError> {
        store(&self.dir, image)?;
        if let Some(shared) = &self.shared {
            shared.put_image_files(
                &image.hash,
                &[
                    (Variant::Display.file_name(), image.display.as_slice()),
                    (Variant::Thumb.file_name(), image.thumb.as_slice()),
                ],
            )?;
        }
        Ok(())
    }

    /// The bytes of one size of the image `hash`, or `None` if there is no such image.
    ///
    /// The local file is read first. On a shared store, a file this node lacks (the image
    /// was written on another node) is read from the store and written into the images
    /// directory (under a temporary name, then renamed, as [`store()`] does), so that the next
    /// request is a file read. A failure to write that copy is logged and the bytes are
    /// still returned: the cache is an optimisation, the store the image.
    pub fn read(&self, hash: &str, variant: Variant) -> Result<Option<Vec<u8>>, ImageError> {
        if !is_hash(hash) {
            return Ok(None);
        }
        let path = variant_path(&self.dir, hash, variant);
        match std::fs::read(&path) {
            Ok(bytes) => return Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err.into()),
        }
        let Some(shared) = &self.shared else {
            return Ok(None);
        };
        let Some(bytes) = shared.image_file(hash, variant.file_name())? else {
            return Ok(None);
        };
        let mut temporary = Vec::with_capacity(1);
        if let Err(err) = write_then_rename(&[(path, bytes.as_slice())], &mut temporary) {
            tracing::warn!(
                "caching image {hash}/{} from the store: {err}",
                variant.file_name()
            );
            for tmp in &temporary {
                let _ = std::fs::remove_file(tmp);
            }
        }
        Ok(Some(bytes))
    }
}

/// Writes both sizes (once: content-addressed files never change).
///
/// Both files are first written under temporary names, and renamed into place only when
/// both are written: a reader never sees half a file, and a failed write (a full disk) leaves
/// no file behind — the temporary files are removed — so no record can be pointed at a
/// missing size, and a retry starts clean. The `images::write` failpoint (tests only) fails
/// a file's write, `return(full)` as a full disk (ENOSPC).
pub fn store(images_dir: &Path, image: &ProcessedImage) -> Result<(), ImageError> {
    let missing: Vec<(PathBuf, &[u8])> = [(Variant::Display, &image.display), (Variant::Thumb, &image.thumb)]
        .into_iter()
        .map(|(variant, bytes)| (variant_path(images_dir, &image.hash, variant), bytes.as_slice()))
        .filter(|(path, _)| !path.exists())
        .collect();
    let mut temporary = Vec::with_capacity(missing.len());
    if let Err(err) = write_then_rename(&missing, &mut temporary) {
        tracing::error!("storing image {}: {err}", image.hash);
        // Those already renamed are gone from here (and complete where they are).
        for tmp in &temporary {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(err.into());
    }
    Ok(())
}

/// Writes each file under a temporary name beside it (noted in `temporary` before it is
/// created), then renames them all into place.
fn write_then_rename(files: &[(PathBuf, &[u8])], temporary: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for (path, bytes) in files {
        let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
            return Err(std::io::Error::other(format!(
                "not a file path: {}",
                path.display()
            )));
        };
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{name}.{}", crate::auth::secret::random_hex(8)));
        temporary.push(tmp.clone());
        write_file(&tmp, bytes)?;
    }
    for ((path, _), tmp) in files.iter().zip(temporary.iter()) {
        std::fs::rename(tmp, path)?;
    }
    Ok(())
}

/// Writes `bytes` to a new file at `path`.
fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    #[cfg(feature = "failpoints")]
    fail::fail_point!("images::write", |arg| Err(indexer::injected_io_error(arg)));
    file.write_all(bytes)?;
    file.sync_all()
}

impl ImageError {
    /// True for a write that failed on a full disk (ENOSPC).
    pub fn is_disk_full(&self) -> bool {
        match self {
            ImageError::Io(err) => err.kind() == std::io::ErrorKind::StorageFull,
            ImageError::Store(err) => err.is_disk_full(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(image)
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    /// The images of a node with a store of its own (SQLite) in `data_dir`.
    fn local_storage(data_dir: &Path) -> ImageStorage {
        let store = Store::open(&data_dir.join("jincheng.db")).expect("a SQLite store");
        ImageStorage::new(data_dir, &Arc::new(store))
    }

    /// With a store of one node the files are the images: the store holds no bytes of
    /// them, and an image whose files are gone is gone.
    #[test]
    fn a_store_of_one_node_keeps_images_as_files_only() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Arc::new(Store::open(&dir.path().join("jincheng.db")).unwrap());
        let storage = ImageStorage::new(dir.path(), &store);
        assert_eq!(storage.dir(), images_dir(dir.path()));
        let processed = process(&png(300, 100), &ImageLimits::default()).unwrap();
        storage.put(&processed).unwrap();
        let hash = &processed.hash;
        for variant in [Variant::Thumb, Variant::Display] {
            let bytes = storage.read(hash, variant).unwrap().expect("the file");
            assert_eq!(
                bytes,
                std::fs::read(variant_path(storage.dir(), hash, variant)).unwrap()
            );
            assert_eq!(store.image_file(hash, variant.file_name()).unwrap(), None);
        }
        std::fs::remove_file(variant_path(storage.dir(), hash, Variant::Thumb)).unwrap();
        assert_eq!(storage.read(hash, Variant::Thumb).unwrap(), None);
        assert_eq!(storage.read("not a hash", Variant::Thumb).unwrap(), None);
    }

    #[test]
    fn a_large_image_is_scaled_and_hashed() {
        let processed = process(&png(2400, 1200), &ImageLimits::default()).unwrap();
        assert_eq!((processed.width, processed.height), (1200, 600));
        assert_eq!(processed.hash.len(), 64);
        assert!(processed.thumb.starts_with(&[0xFF, 0xD8]), "JPEG");
    }

    #[test]
    fn hostile_files_are_refused_early() {
        let limits = ImageLimits::default();
        assert!(matches!(
            process(b"hello, not an image", &limits),
            Err(ImageError::Unsupported(_))
        ));
        let mut truncated = png(64, 64);
        truncated.truncate(truncated.len() / 2);
        assert!(matches!(
            process(&truncated, &limits),
            Err(ImageError::Invalid(_))
        ));
        let mut jpeg = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(RgbImage::new(300, 200))
            .write_to(&mut jpeg, ImageFormat::Jpeg)
            .unwrap();
        let mut jpeg = jpeg.into_inner();
        jpeg.truncate(jpeg.len() / 3);
        assert!(matches!(process(&jpeg, &limits), Err(ImageError::Invalid(_))));
        let small = ImageLimits {
            max_bytes: 10,
            ..limits
        };
        assert!(matches!(
            process(&png(4, 4), &small),
            Err(ImageError::TooLarge(_))
        ));
    }

    #[test]
    fn the_pixel_budget_is_checked_before_decoding() {
        let limits = ImageLimits {
            max_pixels: 10_000,
            ..ImageLimits::default()
        };
        assert!(process(&png(100, 100), &limits).is_ok());
        let Err(ImageError::TooLarge(message)) = process(&png(101, 100), &limits) else {
            panic!("an image over the budget is refused");
        };
        assert!(message.contains("101×100"), "{message}");
        // The default budget is 40 megapixels, whatever the sides allow.
        assert_eq!(ImageLimits::default().max_pixels, 40_000_000);
    }

    /// An upload whose request is dropped while it waits for a slot leaves the queue: it is
    /// counted as abandoned, and the slots, once free, go to the next upload, which decodes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_upload_leaves_the_queue_undecoded() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let storage = local_storage(dir.path());
        let held = [DecodeSlot::acquire().await, DecodeSlot::acquire().await];
        let before = decode_counts();
        let upload = process_and_store(png(8, 8), ImageLimits::default(), storage.clone());
        // The slots are held, so this cannot finish: it is dropped waiting, as a timed-out
        // request's future is.
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), upload).await;
        assert!(waited.is_err(), "no slot was free");
        assert_eq!(decode_counts().abandoned, before.abandoned + 1);
        drop(held);
        let next = process_and_store(png(9, 9), ImageLimits::default(), storage)
            .await
            .expect("the next upload decodes");
        assert_eq!(next.width, 9);
    }
}
