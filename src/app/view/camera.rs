//! Orbit camera for the 3-D view. World space is morphology space (µm; `world_from_morphology`
//! is the identity), with +y up (the apical trunk of an upright reconstruction).

use three_d::{vec3, InnerSpace, Mat4, Rad, Vec3};
use three_d::prelude::Point3;

/// A ray in world space; `dir` is unit length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ray {
    pub origin: Vec3,
    pub dir: Vec3,
}

/// Looks at `target` from `distance_um` away, at `yaw_rad` around +y and `pitch_rad` above the
/// horizontal plane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrbitCamera {
    pub target: Vec3,
    pub yaw_rad: f32,
    pub pitch_rad: f32,
    pub distance_um: f32,
    /// Vertical field of view.
    pub fov_y_rad: f32,
    /// Radius of the scene around `target` (µm), for the clip planes.
    pub scene_radius_um: f32,
}

impl Default for OrbitCamera {
    fn default() -> Self {
        OrbitCamera {
            target: vec3(0.0, 0.0, 0.0),
            yaw_rad: 0.0,
            pitch_rad: 0.0,
            distance_um: 1000.0,
            fov_y_rad: 35f32.to_radians(),
            scene_radius_um: 500.0,
        }
    }
}

const MAX_PITCH_RAD: f32 = 1.55;

impl OrbitCamera {
    /// Unit vector from the target towards the eye.
    fn backward(&self) -> Vec3 {
        let (sy, cy) = self.yaw_rad.sin_cos();
        let (sp, cp) = self.pitch_rad.sin_cos();
        vec3(cp * sy, sp, cp * cy)
    }

    pub fn eye(&self) -> Vec3 {
        self.target + self.backward() * self.distance_um
    }

    /// Camera basis in world space: (right, up, forward).
    pub fn basis(&self) -> (Vec3, Vec3, Vec3) {
        let forward = -self.backward();
        let right = forward.cross(vec3(0.0, 1.0, 0.0)).normalize();
        let up = right.cross(forward);
        (right, up, forward)
    }

    pub fn view_from_world(&self) -> Mat4 {
        let e = self.eye();
        let t = self.target;
        Mat4::look_at_rh(Point3::new(e.x, e.y, e.z), Point3::new(t.x, t.y, t.z), vec3(0.0, 1.0, 0.0))
    }

    /// Near and far clip distances (µm) that enclose the scene.
    pub fn clip_planes_um(&self) -> (f32, f32) {
        let near = (self.distance_um - 1.5 * self.scene_radius_um).max(self.distance_um * 0.01).max(0.01);
        let far = self.distance_um + 1.5 * self.scene_radius_um + 1.0;
        (near, far)
    }

    pub fn clip_from_view(&self, aspect: f32) -> Mat4 {
        let (near, far) = self.clip_planes_um();
        three_d::perspective(Rad(self.fov_y_rad), aspect.max(1e-3), near, far)
    }

    /// Pixels per world unit at unit depth, for a viewport `height_px` tall.
    pub fn focal_px(&self, height_px: f32) -> f32 {
        0.5 * height_px / (0.5 * self.fov_y_rad).tan()
    }

    /// The ray through normalised device coordinates (x, y in [-1, 1], y up).
    pub fn ray_through_ndc(&self, ndc_x: f32, ndc_y: f32, aspect: f32) -> Ray {
        let (right, up, forward) = self.basis();
        let h = (0.5 * self.fov_y_rad).tan();
        let dir = (forward + right * (ndc_x * h * aspect) + up * (ndc_y * h)).normalize();
        Ray { origin: self.eye(), dir }
    }

    /// Rotate by a mouse drag (pixels).
    pub fn orbit(&mut self, dx_px: f32, dy_px: f32) {
        self.yaw_rad -= dx_px * 0.008;
        self.pitch_rad = (self.pitch_rad + dy_px * 0.008).clamp(-MAX_PITCH_RAD, MAX_PITCH_RAD);
    }

    /// Move the target with a drag so the point under the cursor follows it.
    pub fn pan(&mut self, dx_px: f32, dy_px: f32, viewport_height_px: f32) {
        let um_per_px = self.distance_um / self.focal_px(viewport_height_px.max(1.0));
        let (right, up, _) = self.basis();
        self.target += right * (-dx_px * um_per_px) + up * (dy_px * um_per_px);
    }

    /// Zoom by a scroll amount (points; positive = closer).
    pub fn zoom(&mut self, scroll: f32) {
        let factor = (-scroll * 0.0025).exp();
        self.distance_um = (self.distance_um * factor).clamp(1.0, 1e6);
    }

    /// Centre the box `[min, max]` and back off until it fills the view (with a small margin).
    pub fn fit(&mut self, min: Vec3, max: Vec3, aspect: f32) {
        self.target = (min + max) * 0.5;
        let half = (max - min) * 0.5;
        self.scene_radius_um = half.magnitude().max(1.0);
        let (right, up, forward) = self.basis();
        // Half extents of the box along the camera axes.
        let extent = |axis: Vec3| half.x * axis.x.abs() + half.y * axis.y.abs() + half.z * axis.z.abs();
        let t = (0.5 * self.fov_y_rad).tan();
        let need_v = extent(up) / t;
        let need_h = extent(right) / (t * aspect.max(1e-3));
        self.distance_um = 1.08 * need_v.max(need_h) + extent(forward);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use three_d::{vec4, Vector4};

    fn project(cam: &OrbitCamera, p: Vec3, aspect: f32) -> Vector4<f32> {
        let c = cam.clip_from_view(aspect) * cam.view_from_world() * vec4(p.x, p.y, p.z, 1.0);
        c / c.w
    }

    #[test]
    fn default_camera_looks_down_minus_z_with_y_up() {
        let cam = OrbitCamera::default();
        assert!((cam.eye() - vec3(0.0, 0.0, 1000.0)).magnitude() < 1e-3);
        let v = cam.view_from_world() * vec4(0.0, 0.0, 0.0, 1.0);
        assert!((v.z + 1000.0).abs() < 1e-2 && v.x.abs() < 1e-3 && v.y.abs() < 1e-3);
        let up = project(&cam, vec3(0.0, 100.0, 0.0), 1.0);
        assert!(up.y > 0.0 && up.x.abs() < 1e-5);
    }

    #[test]
    fn ray_through_a_projected_point_passes_through_it() {
        let mut cam = OrbitCamera { yaw_rad: 0.7, pitch_rad: -0.3, ..OrbitCamera::default() };
        cam.target = vec3(10.0, 20.0, 30.0);
        let p = vec3(60.0, -40.0, 90.0);
        let aspect = 1.6;
        let ndc = project(&cam, p, aspect);
        let ray = cam.ray_through_ndc(ndc.x, ndc.y, aspect);
        let to_p = p - ray.origin;
        let off_axis = (to_p - ray.dir * to_p.dot(ray.dir)).magnitude();
        assert!(off_axis < 1e-2, "ray misses by {off_axis} µm");
    }

    #[test]
    fn fit_puts_the_box_inside_the_view() {
        let mut cam = OrbitCamera::default();
        let (min, max) = (vec3(-100.0, -300.0, -50.0), vec3(100.0, 1200.0, 50.0));
        cam.fit(min, max, 1.5);
        for corner in [min, max, vec3(min.x, max.y, min.z), vec3(max.x, min.y, max.z)] {
            let ndc = project(&cam, corner, 1.5);
            assert!(ndc.x.abs() <= 1.0 && ndc.y.abs() <= 1.0 && ndc.z.abs() <= 1.0, "{ndc:?}");
        }
        // And it fills it: the tall axis uses most of the height.
        assert!(project(&cam, vec3(0.0, 1200.0, 0.0), 1.5).y > 0.8);
    }

    #[test]
    fn orbit_pan_zoom() {
        let mut cam = OrbitCamera::default();
        cam.orbit(0.0, 1e6);
        assert!(cam.pitch_rad <= MAX_PITCH_RAD);
        let before = cam.distance_um;
        cam.zoom(100.0);
        assert!(cam.distance_um < before);
        let t0 = cam.target;
        cam.pan(10.0, 0.0, 800.0);
        assert!((cam.target - t0).magnitude() > 0.0);
    }
}
