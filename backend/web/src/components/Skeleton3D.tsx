import { useEffect, useRef, useState } from 'react';
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
import type { Keypoint3D } from '../api/types';
import { SIDE_COLORS, SKELETON_EDGES } from '../pose/skeleton';

interface Props { keypoints: Keypoint3D[] | null }

const UP = new Vector3(0, 1, 0);

/** The rider's 3D pose (metres, hip-centred, y up) with orbit controls; renders only on change. */
export default function Skeleton3D({ keypoints }: Props) {
  const hostRef = useRef<HTMLDivElement>(null);
  const sceneRef = useRef<{ update: (k: Keypoint3D[] | null) => void } | null>(null);
  const [failed, setFailed] = useState(false);

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
    camera.position.set(1.6, 0.6, 3.2);
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
    scene.add(bones, joints);

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
    const update = (k: Keypoint3D[] | null) => {
      const ok = !!k && k.length >= 17;
      bones.visible = joints.visible = ok;
      if (ok) {
        let minY = Infinity;
        k!.forEach((p, i) => {
          m.makeTranslation(p.x, p.y, p.z);
          joints.setMatrixAt(i, m);
          minY = Math.min(minY, p.y);
        });
        SKELETON_EDGES.forEach(([i, j], n) => {
          a.set(k![i].x, k![i].y, k![i].z);
          b.set(k![j].x, k![j].y, k![j].z);
          mid.addVectors(a, b).multiplyScalar(0.5);
          const len = a.distanceTo(b);
          q.setFromUnitVectors(UP, b.sub(a).normalize());
          scale.set(1, Math.max(len, 1e-4), 1);
          m.compose(mid, q, scale);
          bones.setMatrixAt(n, m);
        });
        bones.instanceMatrix.needsUpdate = true;
        joints.instanceMatrix.needsUpdate = true;
        grid.position.y = Number.isFinite(minY) ? minY - 0.03 : -1;
      }
      render();
    };
    sceneRef.current = { update };

    const ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(resize) : null;
    ro?.observe(host);
    resize();

    return () => {
      ro?.disconnect();
      controls.dispose();
      renderer.dispose();
      bones.geometry.dispose();
      joints.geometry.dispose();
      host.removeChild(renderer.domElement);
      sceneRef.current = null;
    };
  }, []);

  useEffect(() => {
    sceneRef.current?.update(keypoints);
  }, [keypoints]);

  if (failed) return <div className="view3d-msg">3D view needs WebGL, which this browser does not offer.</div>;
  return (
    <div className="view3d" ref={hostRef} data-testid="view3d">
      {!keypoints && <div className="view3d-msg">No 3D pose for this frame.</div>}
    </div>
  );
}
