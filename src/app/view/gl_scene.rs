//! The GPU side of the 3-D view: three-d buffers and one shader, living in a thread-local on the
//! GL thread (egui paint callbacks must be Send + Sync, three-d objects are not). Buffers are
//! re-uploaded only when the geometry, the colours or the markers change (tracked by ids).

use super::geometry::MeshData;
use eframe::{egui, egui_glow, glow};
use std::cell::RefCell;
use std::sync::Arc;
use three_d::{
    ClearState, Context, Cull, DepthTest, ElementBuffer, Mat4, Program, RenderStates, RenderTarget, ScissorBox,
    VertexBuffer, Viewport,
};

const VERTEX_SHADER: &str = r#"
uniform mat4 u_view;
uniform mat4 u_proj;
uniform float u_min_radius_px;
uniform float u_focal_px;
in vec3 a_center;
in vec3 a_normal;
in float a_radius;
in vec4 a_color;
out vec3 v_normal;
out vec4 v_color;
void main() {
    vec4 c = u_view * vec4(a_center, 1.0);
    float depth = max(-c.z, 1e-3);
    float r = max(a_radius, u_min_radius_px * depth / u_focal_px);
    vec3 n = normalize(mat3(u_view) * a_normal);
    v_normal = n;
    v_color = a_color;
    gl_Position = u_proj * (c + vec4(n * r, 0.0));
}
"#;

const FRAGMENT_SHADER: &str = r#"
in vec3 v_normal;
in vec4 v_color;
layout (location = 0) out vec4 out_color;
void main() {
    // Head light: surfaces facing the viewer are brightest.
    float facing = abs(normalize(v_normal).z);
    out_color = vec4(v_color.rgb * (0.45 + 0.55 * facing), 1.0);
}
"#;

/// A mesh plus its per-vertex colours (RGBA, 0..1), with version ids for the upload cache.
pub struct MeshUpload {
    pub id: u64,
    pub mesh: Arc<MeshData>,
    pub colors_version: u64,
    pub colors: Arc<Vec<[f32; 4]>>,
    /// Minimum on-screen radius (pixels) of this mesh's tubes and spheres.
    pub min_radius_px: f32,
}

/// Everything one frame needs; plain data, so the paint callback can own it.
pub struct FrameParams {
    pub neuron: MeshUpload,
    pub markers: MeshUpload,
    pub view_from_world: Mat4,
    pub clip_from_view: Mat4,
    pub focal_px: f32,
    pub background_rgb: [f32; 3],
}

struct GpuMesh {
    id: u64,
    colors_version: u64,
    centers: VertexBuffer<[f32; 3]>,
    normals: VertexBuffer<[f32; 3]>,
    radii: VertexBuffer<f32>,
    colors: VertexBuffer<[f32; 4]>,
    indices: ElementBuffer<u32>,
}

impl GpuMesh {
    fn new(ctx: &Context, m: &MeshUpload) -> GpuMesh {
        GpuMesh {
            id: m.id,
            colors_version: m.colors_version,
            centers: VertexBuffer::new_with_data(ctx, &m.mesh.centers),
            normals: VertexBuffer::new_with_data(ctx, &m.mesh.normals),
            radii: VertexBuffer::new_with_data(ctx, &m.mesh.radii_um),
            colors: VertexBuffer::new_with_data(ctx, &m.colors),
            indices: ElementBuffer::new_with_data(ctx, &m.mesh.indices),
        }
    }

    fn sync(slot: &mut Option<GpuMesh>, ctx: &Context, m: &MeshUpload) {
        match slot {
            Some(g) if g.id == m.id => {
                if g.colors_version != m.colors_version && m.colors.len() == m.mesh.centers.len() {
                    g.colors.fill(&m.colors);
                    g.colors_version = m.colors_version;
                }
            }
            _ => *slot = Some(GpuMesh::new(ctx, m)),
        }
    }
}

struct GlScene {
    ctx: Context,
    program: Program,
    neuron: Option<GpuMesh>,
    markers: Option<GpuMesh>,
}

impl GlScene {
    fn new(gl: Arc<glow::Context>) -> Result<GlScene, String> {
        let ctx = Context::from_gl_context(gl).map_err(|e| format!("OpenGL context: {e}"))?;
        let program = Program::from_source(&ctx, VERTEX_SHADER, FRAGMENT_SHADER).map_err(|e| format!("shader: {e}"))?;
        Ok(GlScene { ctx, program, neuron: None, markers: None })
    }

    fn render(&mut self, info: &egui::PaintCallbackInfo, p: &FrameParams) {
        let vp = info.viewport_in_pixels();
        let viewport = Viewport { x: vp.left_px, y: vp.from_bottom_px, width: vp.width_px.max(1) as u32, height: vp.height_px.max(1) as u32 };
        // Scissor = the canvas ∩ the clip rect (stack.md pitfall 3).
        let clip = egui::PaintCallbackInfo { clip_rect: info.clip_rect.intersect(info.viewport), ..*info }.clip_rect_in_pixels();
        let scissor = ScissorBox { x: clip.left_px, y: clip.from_bottom_px, width: clip.width_px.max(0) as u32, height: clip.height_px.max(0) as u32 };
        GpuMesh::sync(&mut self.neuron, &self.ctx, &p.neuron);
        GpuMesh::sync(&mut self.markers, &self.ctx, &p.markers);
        let [r, g, b] = p.background_rgb;
        let target = RenderTarget::screen(&self.ctx, info.screen_size_px[0], info.screen_size_px[1]);
        target.clear_partially(scissor, ClearState::color_and_depth(r, g, b, 1.0, 1.0));
        let program = &self.program;
        let states = RenderStates { depth_test: DepthTest::Less, cull: Cull::None, ..RenderStates::default() };
        let _ = target.write_partially::<std::convert::Infallible>(scissor, || {
            for (mesh, min_radius_px) in [(&self.neuron, p.neuron.min_radius_px), (&self.markers, p.markers.min_radius_px)] {
                let Some(mesh) = mesh else { continue };
                if mesh.indices.count() == 0 {
                    continue;
                }
                program.use_uniform_if_required("u_view", p.view_from_world);
                program.use_uniform_if_required("u_proj", p.clip_from_view);
                program.use_uniform_if_required("u_min_radius_px", min_radius_px);
                program.use_uniform_if_required("u_focal_px", p.focal_px);
                program.use_vertex_attribute("a_center", &mesh.centers);
                program.use_vertex_attribute("a_normal", &mesh.normals);
                program.use_vertex_attribute("a_radius", &mesh.radii);
                program.use_vertex_attribute("a_color", &mesh.colors);
                program.draw_elements(states, viewport, &mesh.indices);
            }
            Ok(())
        });
    }
}

thread_local! {
    static SCENE: RefCell<Option<Result<GlScene, String>>> = const { RefCell::new(None) };
}

/// Draw a frame; returns an error message if the GL scene could not be created.
fn render_frame(gl: &Arc<glow::Context>, info: &egui::PaintCallbackInfo, params: &FrameParams) -> Option<String> {
    SCENE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let scene = slot.get_or_insert_with(|| GlScene::new(gl.clone()));
        match scene {
            Ok(s) => {
                s.render(info, params);
                None
            }
            Err(e) => Some(e.clone()),
        }
    })
}

/// The egui paint callback that draws `params` into `rect`. GL errors are reported through
/// `error_sink`, which the view shows on top of the canvas.
pub fn paint_callback(
    rect: egui::Rect,
    params: FrameParams,
    error_sink: Arc<std::sync::Mutex<Option<String>>>,
) -> egui::PaintCallback {
    let callback = egui_glow::CallbackFn::new(move |info, painter| {
        if let Some(e) = render_frame(painter.gl(), &info, &params) {
            if let Ok(mut sink) = error_sink.lock() {
                *sink = Some(e);
            }
        }
    });
    egui::PaintCallback { rect, callback: Arc::new(callback) }
}
