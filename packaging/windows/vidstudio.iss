; Inno Setup script for VidStudio (see build.ps1). Per-user install, no administrator rights needed.
#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
[Setup]
AppId={{6F1D3C52-9E0B-4C47-9C33-7A1E7B5E0D11}
AppName=VidStudio
AppVersion={#AppVersion}
AppPublisher=VidStudio developers
DefaultDirName={localappdata}\Programs\VidStudio
DefaultGroupName=VidStudio
PrivilegesRequired=lowest
ChangesAssociations=yes
OutputDir=..\..\dist
OutputBaseFilename=VidStudio-{#AppVersion}-setup
SetupIconFile=vidstudio.ico
Compression=lzma2
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible

[Files]
Source: "..\..\dist\vidstudio\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\VidStudio"; Filename: "{app}\vidstudio.exe"; Parameters: "gui"
Name: "{userdesktop}\VidStudio"; Filename: "{app}\vidstudio.exe"; Parameters: "gui"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "A desktop icon"; Flags: unchecked

[Registry]
; .vidproj opens in VidStudio (double-click), under HKCU so no administrator is needed.
Root: HKCU; Subkey: "Software\Classes\.vidproj"; ValueType: string; ValueData: "VidStudio.Project"; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\VidStudio.Project"; ValueType: string; ValueData: "VidStudio project"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\VidStudio.Project\DefaultIcon"; ValueType: string; ValueData: "{app}\vidstudio.exe,0"
Root: HKCU; Subkey: "Software\Classes\VidStudio.Project\shell\open\command"; ValueType: string; ValueData: """{app}\vidstudio.exe"" gui ""%1"""

[Run]
Filename: "{app}\vidstudio.exe"; Parameters: "gui"; Description: "Start VidStudio"; Flags: nowait postinstall skipifsilent
