import { useEffect, useMemo, useRef, useState } from 'react';
import {
  Color,
  CylinderGeometry,
  GridHelper,
  InstancedMesh,
  Matrix4,
  MeshBasicMaterial,
  PerspectiveCamera,
  Quaternion,
  Scene,
  SphereGeometry,
  Vector3,
  WebGLRenderer,
} from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { DEFAULT_JOINT_SCORE_MIN, type Keypoint3D } from '../api/types';
import { jointConfidence, limbStyle, SIDE_COLORS, SKELETON_EDGES, type JointConfidence } from '../pose/skeleton';

interface Props {
  keypoints: Keypoint3D[] | null;
  /** The 2D keypoints' scores (same order): joints below minScore are drawn faded, far below it not at all. */
  scores?: number[] | null;
  minScore?: number;
}

/** Per joint, how sure the model was (the 3D keypoints carry no score of their own: the 2D one stands for it). */
export function confidences3d(k: Keypoint3D[], scores: number[] | null | undefined, minScore = DEFAULT_JOINT_SCORE_MIN): JointConfidence[] {
  return k.map((p, i) => jointConfidence({ name: p.name, x: p.x, y: p.y, score: scores?.[i] ?? 1 }, minScore));
}

const HIDE = new Matrix4().makeScale(0, 0, 0);

const UP = new Vector3(0, 1, 0);

/** "left_knee" → "left knee": a joint's name as a label says it. */
export const jointLabel = (name: string): string => name.replace(/_/g, ' ');

/** A joint's label where the pointer is over it (element px). */
interface HoverLabel { text: string; x: number; y: number }

/** How near (CSS px) the pointer must be to a joint's centre on screen to name it: a fingertip's width on a phone. */
const PICK_PX = 24;

/**
 * The rider's 3D pose (metres, hip-centred, y up) with orbit controls; renders only on change. A button puts the
 * camera back where it started; the joint under the pointer (or finger) is named in a label.
 */
export default function Skeleton3D({ keypoints, scores, minScore }: Props) {
  const hostRef = useRef<HTMLDivElement>(null);
  const sceneRef = useRef<{
    update: (k: Keypoint3D[] | null, c: JointConfidence[]) => void;
    reset: () => void;
    pick: (x: number, y: number) => HoverLabel | null;
  } | null>(null);
  const [failed, setFailed] = useState(false);
  const [hover, setHover] = useState<HoverLabel | null>(null);

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    let renderer: WebGLRenderer;
    try {
      renderer = new WebGLRenderer({ antialias: true, alpha: true, preserveDrawingBuffer: true });
    } catch {
      setFailed(true);
      return;
    }
    renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
    host.appendChild(renderer.domElement);
    renderer.domElement.setAttribute('aria-hidden', 'true');

    const scene = new Scene();
    const camera = new PerspectiveCamera(40, 1, 0.05, 50);
    const HOME = new Vector3(1.6, 0.6, 3.2);
    camera.position.copy(HOME);
    const controls = new OrbitControls(camera, renderer.domElement);
    controls.target.set(0, 0, 0);
    controls.enablePan = false;
    controls.minDistance = 1.2;
    controls.maxDistance = 10;

    const grid = new GridHelper(4, 16, 0x334155, 0x1e293b);
    scene.add(grid);

    const bones = new InstancedMesh(new CylinderGeometry(0.022, 0.022, 1, 8), new MeshBasicMaterial(), SKELETON_EDGES.length);
    SKELETON_EDGES.forEach(([, , side], i) => bones.setColorAt(i, new Color(SIDE_COLORS[side])));
    const joints = new InstancedMesh(new SphereGeometry(0.035, 10, 8), new MeshBasicMaterial({ color: 0xfde047 }), 17);
    // Guessed joints and limbs: thinner and see-through, never the solid style of what the model saw.
    const faded = { transparent: true, opacity: 0.25, depthWrite: false };
    const fadedBones = new InstancedMesh(new CylinderGeometry(0.01, 0.01, 1, 6), new MeshBasicMaterial(faded), SKELETON_EDGES.length);
    SKELETON_EDGES.forEach(([, , side], i) => fadedBones.setColorAt(i, new Color(SIDE_COLORS[side])));
    const fadedJoints = new InstancedMesh(new SphereGeometry(0.025, 8, 6), new MeshBasicMaterial({ color: 0xfde047, ...faded }), 17);
    scene.add(bones, joints, fadedBones, fadedJoints);

    const render = () => renderer.render(scene, camera);
    const resize = () => {
      const w = host.clientWidth || 300;
      const h = host.clientHeight || 300;
      renderer.setSize(w, h, false);
      camera.aspect = w / h;
      camera.updateProjectionMatrix();
      render();
    };
    controls.addEventListener('change', render);

    const m = new Matrix4();
    const q = new Quaternion();
    const a = new Vector3();
    const b = new Vector3();
    const mid = new Vector3();
    const scale = new Vector3();
    let shown: { k: Keypoint3D[]; conf: JointConfidence[] } | null = null;
    const update = (k: Keypoint3D[] | null, conf: JointConfidence[]) => {
      const ok = !!k && k.length >= 17;
      shown = ok ? { k: k!, conf } : null;
      bones.visible = joints.visible = fadedBones.visible = fadedJoints.visible = ok;
      if (ok) {
        let minY = Infinity;
        k!.forEach((p, i) => {
          m.makeTranslation(p.x, p.y, p.z);
          joints.setMatrixAt(i, conf[i] === 'seen' ? m : HIDE);
          fadedJoints.setMatrixAt(i, conf[i] === 'unsure' ? m : HIDE);
          if (conf[i] === 'seen') minY = Math.min(minY, p.y);
        });
        SKELETON_EDGES.forEach(([i, j], n) => {
          const style = limbStyle(conf[i], conf[j]);
          a.set(k![i].x, k![i].y, k![i].z);
          b.set(k![j].x, k![j].y, k![j].z);
          mid.addVectors(a, b).multiplyScalar(0.5);
          const len = a.distanceTo(b);
          q.setFromUnitVectors(UP, b.sub(a).normalize());
          scale.set(1, Math.max(len, 1e-4), 1);
          m.compose(mid, q, scale);
          bones.setMatrixAt(n, style === 'solid' ? m : HIDE);
          fadedBones.setMatrixAt(n, style === 'faded' ? m : HIDE);
        });
        for (const mesh of [bones, joints, fadedBones, fadedJoints]) mesh.instanceMatrix.needsUpdate = true;
        grid.position.y = Number.isFinite(minY) ? minY - 0.03 : -1;
      }
      render();
    };
    const reset = () => {
      controls.reset();
      camera.position.copy(HOME);
      controls.target.set(0, 0, 0);
      controls.update();
      render();
    };
    const projected = new Vector3();
    /** The drawn joint nearest the element point (x, y), within PICK_PX, as a label placed on the joint. */
    const pick = (x: number, y: number): HoverLabel | null => {
      if (!shown) return null;
      const w = host.clientWidth;
      const h = host.clientHeight;
      let best: HoverLabel | null = null;
      let bestD = PICK_PX;
      shown.k.forEach((p, i) => {
        const c = shown!.conf[i];
        if (c === 'hidden') return;
        projected.set(p.x, p.y, p.z).project(camera);
        const sx = ((projected.x + 1) / 2) * w;
        const sy = ((1 - projected.y) / 2) * h;
        const d = Math.hypot(sx - x, sy - y);
        if (d < bestD) {
          bestD = d;
          best = { text: `${jointLabel(String(p.name))}${c === 'unsure' ? ' (guessed)' : ''}`, x: sx, y: sy };
        }
      });
      return best;
    };
    controls.addEventListener('change', () => setHover(null));
    sceneRef.current = { update, reset, pick };

    const ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(resize) : null;
    ro?.observe(host);
    resize();

    return () => {
      ro?.disconnect();
      controls.dispose();
      renderer.dispose();
      for (const mesh of [bones, joints, fadedBones, fadedJoints]) mesh.geometry.dispose();
      host.removeChild(renderer.domElement);
      sceneRef.current = null;
    };
  }, []);

  const conf = useMemo(() => (keypoints ? confidences3d(keypoints, scores, minScore) : []), [keypoints, scores, minScore]);
  useEffect(() => {
    sceneRef.current?.update(keypoints, conf);
  }, [keypoints, conf]);

  const onPointer = (e: React.PointerEvent<HTMLDivElement>) => {
    // While dragging (orbiting) the label would chase the camera: only on hover, or a touch's first contact.
    if (e.type === 'pointermove' && e.buttons !== 0) return;
    const r = e.currentTarget.getBoundingClientRect();
    setHover(sceneRef.current?.pick(e.clientX - r.left, e.clientY - r.top) ?? null);
  };

  if (failed) return <div className="view3d-msg">3D view needs WebGL, which this browser does not offer.</div>;
  return (
    <div
      className="view3d"
      ref={hostRef}
      data-testid="view3d"
      data-joints={keypoints ? `seen:${conf.filter((c) => c === 'seen').length},unsure:${conf.filter((c) => c === 'unsure').length},hidden:${conf.filter((c) => c === 'hidden').length}` : undefined}
      onPointerMove={onPointer}
      onPointerDown={onPointer}
      onPointerLeave={() => setHover(null)}>
      {!keypoints && <div className="view3d-msg">No 3D pose for this frame.</div>}
      <button type="button" className="btn btn-sm view3d-reset" onClick={() => sceneRef.current?.reset()} title="Put the camera back where it started">
        Reset view
      </button>
      {hover && (
        <span className="view3d-label" data-testid="joint-label" role="status" style={{ left: hover.x, top: hover.y }}>
          {hover.text}
        </span>
      )}
    </div>
  );
}
